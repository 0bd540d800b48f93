"""Login rate limits: per user (Salesforce: 3,600 logins per user per hour, then
``LOGIN_RATE_EXCEEDED`` in LoginHistory and ``rate_limit_exceeded`` / ``number of logins
exceeded`` at the token endpoint, salesforce-wire.md §4.1) and per client IP at the
credential-taking endpoints (our own guard against credential stuffing, anchors.md §3 #35).

Counted in the shared ``Counters`` so every worker and replica enforces one budget (per user:
in memory between reads while far from the limit, as the API allocation).
"""

from __future__ import annotations

from collections.abc import Callable

from localforce.limits.allocation import ApiAllocation
from localforce.limits.ports import Counters, Window

HOUR = Window(seconds=3600, bucket=60)
MINUTE = Window(seconds=60, bucket=10)

#: LoginHistory.Status for a login refused by the rate limit (Salesforce help 000381578).
LOGIN_RATE_EXCEEDED = "Login Rate Exceeded"


class RateLimited(Exception):
    """Too many attempts from this user or address."""


class LoginRateLimiter:
    """``per_user_hour`` / ``per_ip_minute`` of 0 turn the respective limit off."""

    def __init__(self, counters: Counters, clock: Callable[[], float], *,
                 per_user_hour: int, per_ip_minute: int,
                 on_reject: Callable[[str], None] | None = None) -> None:
        self._counters = counters
        self._on_reject = on_reject
        self._clock = clock
        self._per_user = per_user_hour
        self._per_ip = per_ip_minute
        # Counted in memory between reads of the shared counters while far from the limit,
        # as the API allocation is (limits/allocation.py): a login on the event loop then
        # needs no write transaction, and near the limit every login is counted exactly.
        self._users = ApiAllocation(
            counters, clock, per_user_hour, on_reject=on_reject, window=HOUR,
            prefix="login-user:", label="login-user", refusal=lambda _: RateLimited("login-user"))

    def user_attempt(self, user_id: str) -> None:
        """Count a login for ``user_id``; raises ``RateLimited`` past the hourly budget."""
        if self._per_user > 0:
            self._users.consume(user_id)

    def flush(self) -> None:
        """Add the logins counted in memory to the shared counters (at shutdown)."""
        self._users.flush()

    def discard(self) -> None:
        """Forget them (a test server's database was restored under them)."""
        self._users.discard()

    def ip_attempt(self, address: str | None) -> None:
        """Count a request to a credential-taking endpoint from ``address``."""
        if address is not None:
            self._take(f"login-ip:{address}", MINUTE, self._per_ip)

    def _take(self, key: str, window: Window, limit: int) -> None:
        if limit <= 0:
            return
        if not self._counters.take(key, window, int(self._clock()), limit).granted:
            kind = key.split(":", 1)[0]
            if self._on_reject is not None:
                self._on_reject(kind)
            raise RateLimited(kind)
