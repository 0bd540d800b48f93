"""Per-process caches: ``TtlCache`` for facts that may be at most a few seconds old, ``Lru``
for derived values that stay right as long as their key does.

``TtlCache`` — DESIGN.md: a change made on any replica (revocation, a rotated secret, a changed
policy) takes effect everywhere within 1 s. So entries live for ``seconds`` of the monotonic
clock (wall-clock steps must not keep an entry alive), the size is bounded, and the owner drops
everything on its own writes so that a change made in this process is seen at once.

Fan-out — with Redis configured, a process that committed such a change calls ``announce`` and
every other process (workers and replicas) drops the facts it holds within milliseconds
(storage/redis/fanout.py delivers, ``apply`` drops); the TTL stays as the bound when Redis is
down. ``announce(digest)`` names one token (a revocation); ``announce()`` anything else.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Every cache of the process, for ``clear_all`` (a test server's reset).
_ALL: weakref.WeakSet[TtlCache[object] | Lru[object, object]] = weakref.WeakSet()


class Facts(Protocol):
    """A holder of facts another process may change: ``clear`` drops them all; ``forget``
    drops what depends on one token digest."""

    def clear(self) -> None: ...

    def forget(self, key: str) -> None: ...


#: How old a fact a read cache serves may be, in seconds: the one freshness setting every read
#: cache of the process takes when it is built (``TtlCache``'s default, so the directory's
#: reads; the principal cache, oauth/sessions.py; the custom-object declarations,
#: storage/sql/record_store.py). DESIGN.md's 1 s, the bound while Redis fan-out is away;
#: ``Settings.cache_seconds`` sets it (``bootstrap.build``, before it builds any cache).
_freshness = 1.0


def freshness() -> float:
    return _freshness


def set_freshness(seconds: float) -> None:
    """For the caches built from now on (``bootstrap.build`` calls it first)."""
    global _freshness
    if seconds < 0:
        raise ValueError("cache freshness must be 0 or more seconds")
    _freshness = seconds


#: Every holder of such facts (TtlCache, the principal cache, the signing keys, declarations).
_FACTS: weakref.WeakSet[Any] = weakref.WeakSet()
#: Where ``announce`` sends: set by the composition root when Redis is configured.
_broadcast: Callable[[str], None] | None = None
EVERYTHING = "*"


def clear_all() -> None:
    """Empty every cache of the process (after the database was restored under them)."""
    for cache in list(_ALL):
        cache.clear()
    for facts in list(_FACTS):
        facts.clear()


def holds_facts(holder: Facts) -> None:
    """Register ``holder`` to be emptied when another process announces a change."""
    _FACTS.add(holder)


def broadcast_with(send: Callable[[str], None] | None) -> None:
    global _broadcast
    _broadcast = send


def announce(token_digest: str | None = None) -> None:
    """Tell the other processes: this process committed a change they may hold (after the
    commit, so that they reload the new state); a no-op without Redis."""
    send = _broadcast
    if send is not None:
        send(token_digest or EVERYTHING)


def changed(token_digest: str | None = None) -> None:
    """After a commit: drop what this process holds of it, then ``announce`` it."""
    apply(token_digest or EVERYTHING)
    announce(token_digest)


def apply(message: str) -> None:
    """Drop what another process's ``announce`` says changed."""
    for facts in list(_FACTS):
        if message == EVERYTHING:
            facts.clear()
        else:
            facts.forget(message)


class TtlCache(Generic[V]):
    def __init__(self, seconds: float | None = None, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic, *, shared: bool = True,
                 by_token: bool = False) -> None:
        """``seconds``: how long an entry lives (default ``freshness()``). ``shared=False``:
        not emptied by another process's change (a cache of this process's own recent work,
        not of facts). ``by_token``: keyed by token digests, so an announced revocation of
        one (``forget``) drops its entry."""
        self._seconds = freshness() if seconds is None else seconds
        self._max = max_entries
        self._clock = clock
        self._by_token = by_token
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        #: Bumped by ``clear``: a load that started before a write must not be stored after it.
        self._generation = 0
        _ALL.add(self)  # type: ignore[arg-type]
        if shared:
            _FACTS.add(self)

    def get(self, key: Hashable, load: Callable[[], V],
            keep: Callable[[V], bool] | None = None) -> V:
        """The cached value for ``key``, or ``load()``'s (then cached, ``None`` too, unless
        ``keep`` says otherwise)."""
        now = self._clock()
        # Read without the lock: a dict lookup is atomic, and entries are only replaced
        # whole. The generation read first: a ``clear`` after it makes the store below skip.
        generation = self._generation
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        value = load()
        if keep is not None and not keep(value):
            return value
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

    def forget(self, key: str) -> None:
        """``Facts``: the token ``key`` (a digest) was revoked; only a ``by_token`` cache holds
        entries by digest. A load that began before is not stored after (the generation)."""
        if self._by_token:
            with self._lock:
                self._entries.pop(key, None)
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
