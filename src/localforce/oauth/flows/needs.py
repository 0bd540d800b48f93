"""What the token-endpoint flows need, as small Protocols: each flow's constructor names the
ones it uses, and ``bootstrap`` passes the real objects (the directory's store for the
lookups, ``ClientAuthenticator``, ``GrantLogins``, ``Issuer``, the OAuth stores); the unit
tests pass fakes (tests/unit/oauth/flows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# The directory's lookups are its ports (directory/ports.py), named here for the flows.
from localforce.directory.ports import AppLookup as AppLookup
from localforce.directory.ports import OrgLookup as OrgLookup
from localforce.directory.ports import UserLookup as UserLookup
from localforce.domain.models import ConnectedApp, User
from localforce.oauth.artifacts import AuthorizationCode, DeviceAuthorization
from localforce.oauth.credentials import LoginContext
from localforce.oauth.issuing import IssuePolicy
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.ports import TokenRecord

Clock = Callable[[], float]


class Clients(Protocol):
    """The calling app, by ``client_id`` (``ClientAuthenticator``)."""

    def find(self, client_id: str | None, org_id: str | None = None) -> ConnectedApp: ...

    def client(self, request: TokenRequest, *, require_secret: bool,
               org_id: str | None = None) -> tuple[ConnectedApp, str | None]: ...


class LoginPolicy(Protocol):
    """The login step (``grants.GrantLogins``): refusals raise their OAuth error."""

    def admit(self, user: User, context: LoginContext) -> None: ...

    def check(self, user: User, context: LoginContext) -> None: ...

    def refreshed(self, user: User, context: LoginContext) -> None: ...

    def password(self, username: str, password: str, context: LoginContext) -> User: ...

    def record(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> None: ...


class TokenWriter(Protocol):
    """Mints and stores the tokens of a grant (``Issuer``)."""

    def issue(self, app: ConnectedApp, user: User, scopes: tuple[str, ...],
              policy: IssuePolicy, secret: str | None = None) -> TokenResponse: ...


class Callers(Protocol):
    """The calling app, authenticated (``ClientAuthenticator.authenticate``): introspection
    and revocation."""

    def authenticate(self, request: TokenRequest, *, require_secret: bool,
                     org_id: str | None = None) -> ConnectedApp: ...


class TokenLookup(Protocol):
    def find(self, digest: str) -> TokenRecord | None: ...


class FamilyRevoker(Protocol):
    def revoke_family(self, family_id: str, now: int) -> int: ...


class TokenRevoker(TokenLookup, FamilyRevoker, Protocol):
    """Revocation, SOAP ``logout()``."""

    def revoke(self, digest: str, now: int) -> bool: ...


class RefreshTokens(TokenLookup, FamilyRevoker, Protocol):
    def touch(self, digest: str, now: int) -> None: ...

    def mark_rotated(self, digest: str, now: int) -> bool: ...


class Consents(Protocol):
    def find_consent(self, user_id: str, app_id: str) -> tuple[str, ...] | None: ...


class OneTimeValues(Protocol):
    def remember(self, key: str, expires_at: int, now: int) -> bool: ...


class Codes(Protocol):
    """Authorization codes to redeem (``artifacts.CodeStore``'s token-endpoint half)."""

    def get_code(self, digest: str) -> AuthorizationCode | None: ...

    def consume_code(self, digest: str, now: int) -> AuthorizationCode | None: ...


class Devices(Protocol):
    """Device codes to poll and redeem (``artifacts.DeviceStore``'s token-endpoint half)."""

    def get_device(self, digest: str) -> DeviceAuthorization | None: ...

    def record_poll(self, digest: str, now: int, interval: int) -> None: ...

    def consume_device(self, digest: str) -> bool: ...
