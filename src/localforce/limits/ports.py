"""Storage the limits need: rolling-window counters shared by every worker and replica.

Implemented on SQL (``storage.sql.counter_store``, the default), Redis
(``storage.redis.counters``, when ``settings.redis_url`` is set) and in memory
(``storage.memory.counters``); one contract suite runs on them all
(tests/storage/test_counters.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Window:
    """A rolling window of ``seconds``, counted in buckets of ``bucket`` seconds.

    A count covers the buckets that start within the last ``seconds``: the window slides one
    bucket at a time (Salesforce reports usage "accurate within 5 minutes", so a five-minute
    bucket is enough for the daily allocation).
    """

    seconds: int
    bucket: int

    def __post_init__(self) -> None:
        if self.bucket <= 0 or self.seconds < self.bucket or self.seconds % self.bucket:
            raise ValueError("a window is a whole number of buckets")

    def bucket_of(self, now: int) -> int:
        return now - now % self.bucket

    def oldest(self, now: int) -> int:
        """The first bucket still inside the window."""
        return self.bucket_of(now) - self.seconds + self.bucket


@dataclass(frozen=True)
class Taken:
    granted: bool
    #: The count in the window after this call (a refused call is not counted).
    count: int


class Counters(Protocol):
    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        """Atomically count ``n`` events for ``key`` unless the window would then hold more
        than ``limit`` (``None``: no limit, always counted). Across processes no more than
        ``limit`` events are ever granted per window."""
        ...

    def count(self, key: str, window: Window, now: int) -> int:
        """Events counted for ``key`` in the window ending at ``now``."""
        ...
