"""Storage the audit package needs (implemented by ``storage.sql.audit_store``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class ApiCall(NamedTuple):
    """One data-API request. ``path`` never carries the query string (SOQL literals may hold
    personal data; tokens never belong in URLs but clients put them there anyway). A tuple:
    one is made for every data call, and a store writes it as its row."""

    at_ms: int
    org_id: str | None
    user_id: str | None
    app_id: str | None
    method: str
    path: str
    status: int
    duration_us: int


@dataclass(frozen=True)
class AppUser:
    """A user holding tokens of a connected app (Setup > Connected Apps OAuth Usage)."""

    user_id: str
    username: str | None
    live_access_tokens: int
    live_refresh_tokens: int
    #: Epoch seconds of the last use of any of the user's tokens for the app.
    last_used_at: int | None


@dataclass(frozen=True)
class LoginEvent:
    """A LoginHistory row as the CLI lists it."""

    id: str
    login_time_ms: int
    username: str | None
    user_id: str | None
    login_type: str
    status: str
    source_ip: str | None
    application: str | None
    login_url: str | None


class ApiCallLog(Protocol):
    def append(self, calls: Sequence[ApiCall]) -> None:
        """Write a batch in one transaction."""
        ...

    def calls(self, since_ms: int, org_id: str | None = None) -> Iterator[ApiCall]:
        """Calls at or after ``since_ms``, oldest first (streamed, for export)."""
        ...


class AuditQueries(Protocol):
    def app_users(self, app_id: str, now: int) -> list[AppUser]:
        """Users with live tokens of the app, most recently used first."""
        ...

    def logins(self, org_id: str, since_ms: int, username: str | None = None,
               limit: int = 1000) -> list[LoginEvent]:
        """LoginHistory rows of the org (and failed attempts naming no known user), newest
        first."""
        ...
