"""``limits.ports.Counters`` in memory: one count per (key, bucket) under a lock, so concurrent
takers in this process never grant more than the limit (SqlCounters' rules, one process)."""

from __future__ import annotations

import threading
from collections import defaultdict

from localforce.limits.ports import Taken, Window


class MemoryCounters:
    def __init__(self) -> None:
        self._buckets: defaultdict[str, dict[int, int]] = defaultdict(dict)
        self._lock = threading.Lock()

    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        bucket, oldest = window.bucket_of(now), window.oldest(now)
        with self._lock:
            buckets = self._buckets[key]
            for old in [b for b in buckets if b < oldest]:  # left the window
                del buckets[old]
            total = sum(buckets.values()) + n
            if limit is not None and total > limit:
                return Taken(False, total - n)
            buckets[bucket] = buckets.get(bucket, 0) + n
            return Taken(True, total)

    def count(self, key: str, window: Window, now: int) -> int:
        oldest = window.oldest(now)
        with self._lock:
            return sum(c for b, c in self._buckets.get(key, {}).items() if b >= oldest)
