"""What the browser flows remember between requests, and the ports that store it.

- ``AuthorizationCode``: RFC 6749 §4.1.2, single use, 15 minutes (salesforce-wire.md §2.1).
- ``DeviceAuthorization``: RFC 8628 §3.2 (and Salesforce's ``response_type=device_code``).
- ``Consent``: a user's remembered approval of an app (ASVS 10.7); saved and read through
  ``oauth.ports.ConsentStore``, listed here for the page that revokes them.
- ``LoginSession``: the browser session behind the ``lf_session`` cookie.

Only digests of codes, device codes and session ids are stored (DESIGN.md "State and secrets").
``storage/sql/grant_store.py`` implements ``GrantStore``. (``oauth/grants.py`` is the
token-endpoint flows' shared rules, not these.)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AuthorizationCode:
    digest: str
    app_id: str
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    #: Everything issued from this code shares the family and dies with a replay.
    family_id: str
    issued_at: int
    expires_at: int
    consumed_at: int | None = None

    def expired(self, now: int) -> bool:
        return now >= self.expires_at


class DeviceStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"


@dataclass(frozen=True)
class DeviceAuthorization:
    digest: str
    user_code: str
    app_id: str
    scopes: tuple[str, ...]
    status: DeviceStatus
    user_id: str | None
    interval: int
    issued_at: int
    expires_at: int
    last_polled_at: int | None = None

    def expired(self, now: int) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class PushedRequest:
    """RFC 9126: an authorization request's parameters, pushed by an authenticated client and
    redeemed once at the authorize endpoint by ``request_uri`` (stored by its digest)."""

    digest: str
    app_id: str
    params: tuple[tuple[str, str], ...]
    expires_at: int


@dataclass(frozen=True)
class Consent:
    user_id: str
    app_id: str
    scopes: tuple[str, ...]
    granted_at: int


@dataclass(frozen=True)
class LoginSession:
    digest: str
    user_id: str
    org_id: str
    auth_time: int
    expires_at: int


class CodeStore(Protocol):
    def save_code(self, code: AuthorizationCode) -> None: ...
    def get_code(self, digest: str) -> AuthorizationCode | None: ...
    def consume_code(self, digest: str, now: int) -> AuthorizationCode | None:
        """Mark the code used; atomic. None when it was already used (a replay) or unknown."""
        ...


class DeviceStore(Protocol):
    def save_device(self, device: DeviceAuthorization) -> bool:
        """False when the user code is taken (the caller draws another)."""
        ...
    def get_device(self, digest: str) -> DeviceAuthorization | None: ...
    def find_by_user_code(self, user_code: str) -> DeviceAuthorization | None: ...
    def record_poll(self, digest: str, now: int, interval: int) -> None:
        """Remember this poll's time and the (possibly slowed-down) interval."""
        ...
    def decide(self, digest: str, user_id: str, approve: bool) -> bool:
        """pending -> approved/denied, atomically; False when no longer pending."""
        ...
    def consume_device(self, digest: str) -> bool:
        """approved -> consumed, atomically; False when not approved (or already consumed)."""
        ...


class PushedRequests(Protocol):
    def save_pushed(self, pushed: PushedRequest) -> None: ...
    def consume_pushed(self, digest: str, app_id: str, now: int) -> dict[str, str] | None:
        """The parameters, marking the request used; atomic. None when unknown, another app's,
        expired or already used."""
        ...


class ConsentList(Protocol):
    def list_consents(self, user_id: str) -> list[Consent]: ...


class SessionStore(Protocol):
    def save_session(self, session: LoginSession) -> None: ...
    def get_session(self, digest: str) -> LoginSession | None: ...
    def delete_session(self, digest: str) -> None: ...


class GrantStore(CodeStore, DeviceStore, PushedRequests, ConsentList, SessionStore, Protocol):
    """All of the above; one SQL adapter implements it."""
