"""The limits as ``bootstrap`` wires them: one set of counters (Redis when configured, else
the database) behind the API allocation and the login rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localforce.limits.allocation import ApiAllocation
from localforce.limits.ports import Counters
from localforce.limits.rate import LoginRateLimiter


@dataclass
class Limits:
    counters: Counters
    allocation: ApiAllocation
    logins: LoginRateLimiter

    @classmethod
    def of(cls, counters: Counters, clock: Callable[[], float], *, daily_api_requests: int,
           per_user_hour: int, per_ip_minute: int,
           on_reject: Callable[[str], None] | None = None,
           api_limit_of: Callable[[str], int] | None = None) -> Limits:
        """``on_reject(limit)`` observes each refusal (metrics); ``api_limit_of(org_id)``:
        an org's own API request allocation (``daily_api_requests`` otherwise)."""
        return cls(counters, ApiAllocation(counters, clock, daily_api_requests,
                                           on_reject=on_reject, limit_of=api_limit_of),
                   LoginRateLimiter(counters, clock, per_user_hour=per_user_hour,
                                    per_ip_minute=per_ip_minute, on_reject=on_reject))

    def flush(self) -> None:
        """Add every count kept in memory to the shared counters (at shutdown)."""
        self.allocation.flush()
        self.logins.flush()

    def discard(self) -> None:
        """Forget the counts kept in memory (the database was restored under them)."""
        self.allocation.discard()
        self.logins.discard()
