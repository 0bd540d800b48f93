"""A bounded, thread-safe map that drops its least recently used entry first.

The data API's per-process caches (schemas by org, resolved query plans, compiled record
statements) use it, so each is bounded however many orgs, users or distinct queries a process
sees. Entries are only ever replaced whole; readers get the value or ``None``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        # Request threads share a cache; OrderedDict's reorder-then-evict is not atomic.
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
