"""Storage the OAuth core needs, as narrow Protocols with domain verbs.

Implemented on SQL by ``storage.sql.oauth_store`` and in memory by
``storage.memory.oauth_store`` (one contract suite runs on SQLite, PostgreSQL and memory:
tests/storage/test_oauth_store.py). Ports take and return token *digests* (SHA-256 hex); raw
tokens exist only in the response that hands them out. Times are integer epoch seconds unless a
name says ``_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

ACCESS = "access"
REFRESH = "refresh"


@dataclass(frozen=True)
class TokenRecord:
    """One issued access or refresh token, by digest.

    A *family* is everything issued from one grant (one login, one code, one device
    approval, and every rotation after it): it dies together when a rotated refresh token is
    replayed or the refresh token is revoked.
    """

    digest: str
    kind: str  # ACCESS | REFRESH
    org_id: str
    user_id: str
    app_id: str | None  # None for a SOAP session
    scopes: tuple[str, ...]
    family_id: str
    flow: str
    issued_at: int
    last_used_at: int
    #: Seconds of inactivity after which the token is dead (access: the session timeout).
    idle_timeout: int | None = None
    #: Absolute end of life (refresh: the grant's maximum lifetime).
    expires_at: int | None = None
    #: For an access token minted by the refresh flow: the refresh token's digest.
    parent_digest: str | None = None
    revoked_at: int | None = None
    rotated_at: int | None = None
    #: RFC 9449: the thumbprint (RFC 7638) of the DPoP key the token is bound to, if any.
    jkt: str | None = None
    #: RFC 8693 §4.1: the consumer key of the client that obtained it by token exchange.
    act: str | None = None

    def alive(self, now: int) -> bool:
        """Not revoked, not rotated away, not past its absolute or idle end."""
        if self.revoked_at is not None or self.rotated_at is not None:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return self.idle_timeout is None or now - self.last_used_at < self.idle_timeout

    def expiry(self) -> int | None:
        """When the token dies if unused from now on (introspection's ``exp``)."""
        ends = [e for e in (self.expires_at,
                            None if self.idle_timeout is None
                            else self.last_used_at + self.idle_timeout) if e is not None]
        return min(ends) if ends else None


class TokenStore(Protocol):
    def add(self, record: TokenRecord) -> None: ...

    def find(self, digest: str) -> TokenRecord | None: ...

    def touch(self, digest: str, now: int) -> None:
        """Record use (the idle timeout restarts)."""
        ...

    def mark_rotated(self, digest: str, now: int) -> bool:
        """Atomically retire a live refresh token being rotated. False if it was already
        rotated or revoked: the caller has a replay on its hands."""
        ...

    def revoke(self, digest: str, now: int) -> bool:
        """Revoke one token. False if unknown or already revoked."""
        ...

    def revoke_family(self, family_id: str, now: int) -> int:
        """Revoke every token of a grant family; returns how many were live."""
        ...

    def revoke_for(self, user_id: str, app_id: str | None, now: int) -> int:
        """Revoke a user's tokens (for one app, or all apps if ``app_id`` is None)."""
        ...

    def purge(self, before: int) -> int:
        """Delete rows dead since before ``before``; housekeeping only."""
        ...


class ConsentStore(Protocol):
    """A user's approval of an app (the consent page, or a flow that issued a refresh token).

    The JWT bearer flow needs it: "user hasn't approved this consumer" otherwise.
    """

    def find_consent(self, user_id: str, app_id: str) -> tuple[str, ...] | None:
        """The approved scopes, or None if the user never approved the app."""
        ...

    def save_consent(self, user_id: str, app_id: str, scopes: tuple[str, ...], now: int) -> None:
        ...

    def delete_consent(self, user_id: str, app_id: str) -> None: ...


class ReplayStore(Protocol):
    def remember(self, key: str, expires_at: int, now: int) -> bool:
        """Atomically record a one-time value (a JWT ``jti``) until ``expires_at``.
        False if it is already remembered and not yet expired: a replay."""
        ...

    def purge(self, before: int) -> int:
        """Forget values that expired before ``before``; housekeeping only."""
        ...


@dataclass(frozen=True)
class SigningKeyRecord:
    """An id_token signing key. ``private_key_sealed`` is PEM sealed under the master key."""

    kid: str
    private_key_sealed: str
    public_jwk: dict[str, Any]
    created_at: int
    #: The key signs from this time on; published in /id/keys before that.
    active_from: int
    #: Dropped from /id/keys after this (its last tokens have expired).
    retire_after: int | None = None


class SigningKeyStore(Protocol):
    def list_keys(self) -> list[SigningKeyRecord]:
        """All keys, oldest ``active_from`` first."""
        ...

    def add_key(self, record: SigningKeyRecord) -> None: ...

    def retire_key(self, kid: str, retire_after: int) -> None: ...

    def delete_keys_retired_before(self, now: int) -> int: ...


#: LoginHistory.Status values (salesforce-wire.md §7.2).
SUCCESS = "Success"
INVALID_PASSWORD = "Invalid Password"
USERNAME_PASSWORD_DISABLED = "Username-Password Flow Disabled"
RESTRICTED_IP = "Restricted IP"
USER_INACTIVE = "User is inactive"
PASSWORD_LOCKOUT = "Password Lockout"
NOT_APPROVED = "Failed: Not approved for access"
INVALID_ASSERTION = "Failed: Invalid Assertion"

#: LoginHistory.LoginType values.
OAUTH_LOGIN = "Remote Access 2.0"
SOAP_LOGIN = "Other Apex API"
UI_LOGIN = "Application"


@dataclass(frozen=True)
class LoginAttempt:
    """One row of LoginHistory (the audit engineer exposes it as the LoginHistory sObject)."""

    login_time_ms: int
    login_type: str
    status: str
    username: str | None = None
    org_id: str | None = None
    user_id: str | None = None
    source_ip: str | None = None
    application: str | None = None
    app_id: str | None = None
    login_url: str | None = None
    api_type: str | None = None
    api_version: str | None = None
    browser: str | None = None
    platform: str | None = None


class LoginHistory(Protocol):
    def record(self, attempt: LoginAttempt) -> str:
        """Write one attempt; returns its LoginHistory Id (``0Ya`` prefix)."""
        ...


class MaintenanceLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock, or confirm this process still holds it; False while another
        process holds it. Raises when the store cannot be reached."""
        ...

    def release(self) -> None:
        """Let go of the lock if held; never raises (a broken connection lost it already)."""
        ...
