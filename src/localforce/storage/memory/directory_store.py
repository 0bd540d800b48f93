"""The directory's store (``directory.ports.DirectoryStore``) in memory: orgs, profiles,
permission sets, users, connected apps and the setup audit trail, with the SQL store's rules
(storage/sql/directory_store.py and its unique constraints) in one process.

One lock guards the state; ``transaction`` holds it and puts the state back as it was if the
block raises (the values are immutable, so a copy of each dict is the snapshot).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from localforce import caching
from localforce.directory.audit import SetupChange
from localforce.directory.ports import Conflict
from localforce.domain import ids
from localforce.domain.models import (
    Assignment,
    ConnectedApp,
    Org,
    PermissionSet,
    Profile,
    User,
)

_T = TypeVar("_T")


@dataclass
class _State:
    orgs: dict[str, Org] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    permission_sets: dict[str, PermissionSet] = field(default_factory=dict)
    #: Stored without their permission set Ids (those are ``links``).
    users: dict[str, User] = field(default_factory=dict)
    #: (user Id, permission set Id) -> the PermissionSetAssignment.
    links: dict[tuple[str, str], Assignment] = field(default_factory=dict)
    #: user Id -> (password hash, sealed security token).
    credentials: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    last_login: dict[str, int] = field(default_factory=dict)
    apps: dict[str, ConnectedApp] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)
    changes: list[SetupChange] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(dict(self.orgs), dict(self.profiles), dict(self.permission_sets),
                      dict(self.users), dict(self.links), dict(self.credentials),
                      dict(self.last_login), dict(self.apps), dict(self.secrets),
                      list(self.changes))


class MemoryDirectoryStore:
    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._depth = 0

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[MemoryDirectoryStore]:
        with self._lock:
            if self._depth:
                yield self
                return
            before = self._state.copy()
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._state = before
                raise
            finally:
                self._depth -= 1
                caching.changed()

    @contextmanager
    def _writing(self) -> Iterator[_State]:
        with self._lock:
            yield self._state
            if not self._depth:
                caching.changed()

    @staticmethod
    def _unique(rows: dict[str, _T], row_id: str, same: Callable[[_T], bool],
                what: str) -> None:
        if any(same(other) for key, other in rows.items() if key != row_id):
            raise Conflict(f"UNIQUE constraint failed: {what}")

    # -- orgs -----------------------------------------------------------------------------

    def get_org(self, org_id: str) -> Org | None:
        return self._state.orgs.get(org_id)

    def list_orgs(self) -> list[Org]:
        return list(self._state.orgs.values())

    def save_org(self, org: Org) -> None:
        with self._writing() as s:
            s.orgs[org.id] = org

    # -- profiles and permission sets -----------------------------------------------------

    def get_profile(self, profile_id: str) -> Profile | None:
        return self._state.profiles.get(profile_id)

    def find_profile(self, org_id: str, name: str) -> Profile | None:
        return next((p for p in self._state.profiles.values()
                     if p.org_id == org_id and p.name.lower() == name.lower()), None)

    def list_profiles(self, org_id: str) -> list[Profile]:
        return sorted((p for p in self._state.profiles.values() if p.org_id == org_id),
                      key=lambda p: p.name)

    def save_profile(self, profile: Profile) -> None:
        with self._writing() as s:
            self._unique(s.profiles, profile.id,
                         lambda p: (p.org_id, p.name) == (profile.org_id, profile.name),
                         "profiles.org_id, profiles.name")
            s.profiles[profile.id] = profile

    def get_permission_set(self, permission_set_id: str) -> PermissionSet | None:
        return self._state.permission_sets.get(permission_set_id)

    def find_permission_set(self, org_id: str, name: str) -> PermissionSet | None:
        return next((p for p in self._state.permission_sets.values()
                     if p.org_id == org_id and p.name.lower() == name.lower()), None)

    def list_permission_sets(self, org_id: str) -> list[PermissionSet]:
        return sorted((p for p in self._state.permission_sets.values() if p.org_id == org_id),
                      key=lambda p: p.name)

    def save_permission_set(self, permission_set: PermissionSet) -> None:
        ps = permission_set
        # A label equal to the API name is the default one: read back as "" (as the SQL store).
        stored = replace(ps, label="") if ps.label == ps.name else ps
        with self._writing() as s:
            self._unique(s.permission_sets, ps.id,
                         lambda p: (p.org_id, p.name) == (ps.org_id, ps.name),
                         "permission_sets.org_id, permission_sets.name")
            s.permission_sets[ps.id] = stored

    # -- users ----------------------------------------------------------------------------

    def _with_links(self, user: User) -> User:
        held = sorted(ps for (user_id, ps) in self._state.links if user_id == user.id)
        return replace(user, permission_set_ids=tuple(held))

    def get_user(self, user_id: str) -> User | None:
        with self._lock:
            found = self._state.users.get(user_id)
            return None if found is None else self._with_links(found)

    def find_user(self, username: str, *, fresh: bool = True) -> User | None:
        key = username.lower()
        with self._lock:
            found = next((u for u in self._state.users.values()
                          if u.username.lower() == key), None)
            return None if found is None else self._with_links(found)

    def list_users(self, org_id: str) -> list[User]:
        with self._lock:
            return sorted((self._with_links(u) for u in self._state.users.values()
                           if u.org_id == org_id), key=lambda u: u.username.lower())

    def save_user(self, user: User) -> None:
        with self._writing() as s:
            key = user.username.lower()
            self._unique(s.users, user.id, lambda u: u.username.lower() == key,
                         "users.username_key")
            held = s.users.get(user.id)
            # The login counters are the store's own (record_login_*), not the caller's copy.
            s.users[user.id] = replace(
                user, permission_set_ids=(),
                failed_logins=0 if held is None else held.failed_logins,
                locked_until=None if held is None else held.locked_until)
            wanted = set(user.permission_set_ids)
            for link in [k for k in s.links if k[0] == user.id and k[1] not in wanted]:
                del s.links[link]
            for ps_id in sorted(wanted):  # only the changed links: each kept one keeps its Id
                if (user.id, ps_id) not in s.links:
                    s.links[user.id, ps_id] = Assignment(
                        ids.new_id(ids.KEY_PREFIXES["PermissionSetAssignment"]),
                        user.org_id, user.id, ps_id)

    def get_assignment(self, assignment_id: str) -> Assignment | None:
        return next((a for a in list(self._state.links.values()) if a.id == assignment_id),
                    None)

    def find_assignment(self, user_id: str, permission_set_id: str) -> Assignment | None:
        return self._state.links.get((user_id, permission_set_id))

    def get_credentials(self, user_id: str) -> tuple[str | None, str | None]:
        return self._state.credentials.get(user_id, (None, None))

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with self._writing() as s:
            if user_id in s.users:
                s.credentials[user_id] = (password_hash, self.get_credentials(user_id)[1])

    def set_security_token(self, user_id: str, sealed: str) -> None:
        with self._writing() as s:
            if user_id in s.users:
                s.credentials[user_id] = (self.get_credentials(user_id)[0], sealed)

    def record_login_failure(self, user_id: str, locked_until: int | None) -> int:
        with self._writing() as s:
            user = s.users[user_id]
            s.users[user_id] = replace(
                user, failed_logins=user.failed_logins + 1,
                locked_until=(user.locked_until if locked_until is None
                              else datetime.fromtimestamp(locked_until, UTC)))
            return user.failed_logins + 1

    def record_login_success(self, user_id: str, now: int) -> None:
        self.unlock_user(user_id)
        with self._writing() as s:
            if user_id in s.users:
                s.last_login[user_id] = now

    def unlock_user(self, user_id: str) -> None:
        with self._writing() as s:
            if user_id in s.users:
                s.users[user_id] = replace(s.users[user_id], failed_logins=0, locked_until=None)

    # -- connected apps -------------------------------------------------------------------

    def _app(self, app: ConnectedApp) -> ConnectedApp:
        return replace(app, has_secret=self._state.secrets.get(app.id) is not None)

    def get_app(self, app_id: str) -> ConnectedApp | None:
        found = self._state.apps.get(app_id)
        return None if found is None else self._app(found)

    def find_app_by_key(self, consumer_key: str, org_id: str | None = None
                        ) -> ConnectedApp | None:
        found = next((a for a in list(self._state.apps.values())  # oldest first
                      if a.consumer_key == consumer_key and org_id in (None, a.org_id)), None)
        return None if found is None else self._app(found)

    def find_app(self, org_id: str, name: str) -> ConnectedApp | None:
        found = next((a for a in list(self._state.apps.values())
                      if a.org_id == org_id and a.name.lower() == name.lower()), None)
        return None if found is None else self._app(found)

    def list_apps(self, org_id: str) -> list[ConnectedApp]:
        return sorted((self._app(a) for a in list(self._state.apps.values())
                       if a.org_id == org_id), key=lambda a: a.name)

    def save_app(self, app: ConnectedApp) -> None:
        with self._writing() as s:
            self._unique(s.apps, app.id, lambda a: (a.org_id, a.name) == (app.org_id, app.name),
                         "apps.org_id, apps.name")
            self._unique(s.apps, app.id, lambda a: (a.org_id, a.consumer_key) == (
                app.org_id, app.consumer_key), "apps.org_id, apps.consumer_key")
            s.apps[app.id] = replace(app, session_timeout_minutes=app.session_timeout_minutes
                                     or None)
            s.secrets.setdefault(app.id, None)

    def get_app_secret(self, app_id: str) -> str | None:
        return self._state.secrets.get(app_id)

    def set_app_secret(self, app_id: str, sealed: str | None) -> None:
        with self._writing() as s:
            if app_id in s.apps:
                s.secrets[app_id] = sealed

    # -- setup audit trail ----------------------------------------------------------------

    def record_setup_change(self, change: SetupChange) -> None:
        with self._writing() as s:
            s.changes.append(change)

    def list_setup_changes(self, org_id: str, since_ms: int | None = None,
                           limit: int = 1000) -> list[SetupChange]:
        found = [c for c in list(self._state.changes) if c.org_id == org_id
                 and (since_ms is None or c.created_date_ms >= since_ms)]
        found.sort(key=lambda c: (c.created_date_ms, c.id), reverse=True)
        return found[:limit]
