"""Storage the directory needs, split into the ports its users need. Implemented by
``storage.sql.directory_store`` and ``storage.memory.directory_store``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from localforce.directory.audit import SetupChange
from localforce.domain.models import (
    Assignment,
    ConnectedApp,
    Org,
    PermissionSet,
    Profile,
    User,
)


class Conflict(Exception):
    """A unique value (username, consumer key, name) is already taken."""


# -- the narrow ports: each caller names the few verbs it uses ---------------------------

class OrgLookup(Protocol):
    def get_org(self, org_id: str) -> Org | None: ...


class UserLookup(Protocol):
    def get_user(self, user_id: str) -> User | None: ...

    def find_user(self, username: str, *, fresh: bool = True) -> User | None:
        """By username, case-insensitively. ``fresh=False`` may answer from the read cache
        (≤ 1 s old, like ``get_user``); password logins read fresh (exact lockout counts)."""
        ...


class AppLookup(Protocol):
    """An app by its id (the one a token, code or device request was issued to)."""

    def get_app(self, app_id: str) -> ConnectedApp | None: ...


class AppsByKey(Protocol):
    def find_app_by_key(self, consumer_key: str, org_id: str | None = None
                        ) -> ConnectedApp | None:
        """The app with this key (in ``org_id`` if given; else the oldest org's, which only
        matters for the built-in PlatformCLI key that every org shares)."""
        ...


class RightsLookup(OrgLookup, Protocol):
    """What a user's access is made of: the profile, the permission sets and the org's
    sharing defaults (``oauth.credentials.user_access``)."""

    def get_profile(self, profile_id: str) -> Profile | None: ...
    def get_permission_set(self, permission_set_id: str) -> PermissionSet | None: ...


# -- the directory's own halves (Setup, the CLI, the seed) --------------------------------

class Orgs(OrgLookup, Protocol):
    def list_orgs(self) -> list[Org]: ...
    def save_org(self, org: Org) -> None: ...


class AccessRights(RightsLookup, Protocol):
    """Profiles and permission sets."""

    def find_profile(self, org_id: str, name: str) -> Profile | None: ...
    def list_profiles(self, org_id: str) -> list[Profile]: ...
    def save_profile(self, profile: Profile) -> None: ...
    def find_permission_set(self, org_id: str, name: str) -> PermissionSet | None: ...
    def list_permission_sets(self, org_id: str) -> list[PermissionSet]: ...
    def save_permission_set(self, permission_set: PermissionSet) -> None: ...


class Users(UserLookup, Protocol):
    def list_users(self, org_id: str) -> list[User]: ...
    def save_user(self, user: User) -> None: ...
    def get_assignment(self, assignment_id: str) -> Assignment | None: ...
    def find_assignment(self, user_id: str, permission_set_id: str) -> Assignment | None: ...
    def get_credentials(self, user_id: str) -> tuple[str | None, str | None]:
        """(argon2id password hash, sealed security token)."""
        ...
    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...
    def set_security_token(self, user_id: str, sealed: str) -> None: ...
    def record_login_failure(self, user_id: str, locked_until: int | None) -> int:
        """Count one failed login; lock until ``locked_until`` if given. Returns the count."""
        ...
    def record_login_success(self, user_id: str, now: int) -> None: ...
    def unlock_user(self, user_id: str) -> None: ...


class Apps(AppLookup, AppsByKey, Protocol):
    """Connected apps and their sealed consumer secrets."""

    def find_app(self, org_id: str, name: str) -> ConnectedApp | None: ...
    def list_apps(self, org_id: str) -> list[ConnectedApp]: ...
    def save_app(self, app: ConnectedApp) -> None: ...
    def get_app_secret(self, app_id: str) -> str | None:
        """The sealed consumer secret, or None for a public client."""
        ...
    def set_app_secret(self, app_id: str, sealed: str | None) -> None: ...


class SetupTrail(Protocol):
    def record_setup_change(self, change: SetupChange) -> None: ...
    def list_setup_changes(self, org_id: str, since_ms: int | None = None,
                           limit: int = 1000) -> list[SetupChange]:
        """Newest first."""
        ...


class DirectoryStore(Orgs, AccessRights, Users, Apps, SetupTrail, Protocol):
    """The whole store, for the ``Directory`` service (which changes it by its rules) and
    the wiring; everything else takes one of the ports above."""

    def transaction(self) -> AbstractContextManager[DirectoryStore]:
        """A store whose writes commit together, or not at all."""
        ...
