"""Per-process caches: ``TtlCache`` for facts that may be at most a few seconds old, ``Lru``
for derived values that stay right as long as their key does.

``TtlCache`` — DESIGN.md: a change made on any replica (revocation, a rotated secret, a changed
policy) takes effect everywhere within 1 s. So entries live for ``seconds`` of the monotonic
clock (wall-clock steps must not keep an entry alive), the size is bounded, and the owner drops
everything on its own writes so that a change made in this process is seen at once.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Every cache of the process, for ``clear_all`` (a test server's reset).
_ALL: weakref.WeakSet[TtlCache[object] | Lru[object, object]] = weakref.WeakSet()


def clear_all() -> None:
    """Empty every cache of the process (after the database was restored under them)."""
    for cache in list(_ALL):
        cache.clear()


class TtlCache(Generic[V]):
    def __init__(self, seconds: float = 1.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        #: Bumped by ``clear``: a load that started before a write must not be stored after it.
        self._generation = 0
        _ALL.add(self)  # type: ignore[arg-type]

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value for ``key``, or ``load()``'s (then cached; ``None`` too)."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            generation = self._generation
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        value = load()
        with self._lock:
            if generation != self._generation:
                return value
            if len(self._entries) >= self._max:
                self._entries.clear()  # bounded; a full reload is cheap and rare
            self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


class Lru(Generic[K, V]):
    """A bounded, thread-safe map that drops its least recently used entry first: the data
    API's schemas by org, resolved query plans and compiled record statements, each bounded
    however many orgs, users or distinct queries a process sees. Entries are only replaced
    whole; readers get the value or ``None``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        # Request threads share a cache; OrderedDict's reorder-then-evict is not atomic.
        self._lock = threading.Lock()
        _ALL.add(self)  # type: ignore[arg-type]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

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
