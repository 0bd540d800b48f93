"""Access-token records kept for introspection, as the data API keeps its principals
(oauth/sessions.py): a resource server introspects the same token on every call it serves.

A record is kept at most ``caching.freshness()`` seconds (DESIGN.md's 1 s) on the monotonic
clock. A revocation committed in this process drops it at once (``caching.changed(digest)``
reaches ``forget``); one committed elsewhere within milliseconds with Redis (the fan-out), and
within the freshness bound without. Only live access tokens are kept: a refresh token is
rotated away without an announcement, and an unknown token may be a new one whose row another
process is committing, so both are read every time. Whether a kept token is alive is decided
by the caller at each use (its expiry and idle end against the clock), as on a read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from localforce import caching
from localforce.oauth.flows.needs import TokenLookup
from localforce.oauth.ports import ACCESS, TokenRecord

_MAX_ENTRIES = 10_000


class RecentTokens:
    """``TokenLookup`` in front of ``tokens``."""

    def __init__(self, tokens: TokenLookup, seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens = tokens
        self._seconds = caching.freshness() if seconds is None else seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, TokenRecord]] = {}
        self._lock = threading.Lock()
        #: Bumped by ``clear`` and ``forget``: a read that started before a revocation
        #: must not be kept after it.
        self._generation = 0
        caching.holds_facts(self)

    def find(self, digest: str) -> TokenRecord | None:
        now = self._clock()
        generation = self._generation
        hit = self._entries.get(digest)  # entries are replaced whole: no lock to read
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        record = self._tokens.find(digest)
        if record is None or record.kind != ACCESS or record.revoked_at is not None:
            return record
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()  # bounded; a reload is one read
                self._entries[digest] = (now, record)
        return record

    def forget(self, key: str) -> None:
        """``caching.Facts``: the token ``key`` (a digest) was revoked."""
        with self._lock:
            self._entries.pop(key, None)
            self._generation += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1
