"""Access-token records kept for introspection, as the data API keeps its principals
(oauth/sessions.py): a resource server introspects the same token on every call it serves.

A record is kept at most ``caching.freshness()`` seconds (DESIGN.md's 1 s) on the monotonic
clock. A revocation committed in this process drops it at once (``caching.changed(digest)``
reaches its cache's ``forget``); one committed elsewhere within milliseconds with Redis (the
fan-out), and within the freshness bound without. Only live access tokens are kept: a refresh
token is rotated away without an announcement, and an unknown token may be a new one whose row
another process is committing, so both are read every time. Whether a kept token is alive is
decided by the caller at each use (its expiry and idle end against the clock), as on a read.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from localforce.caching import TtlCache
from localforce.oauth.flows.needs import TokenLookup
from localforce.oauth.ports import ACCESS, TokenRecord


class RecentTokens:
    """``TokenLookup`` in front of ``tokens``."""

    def __init__(self, tokens: TokenLookup, seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens = tokens
        self._records: TtlCache[TokenRecord | None] = TtlCache(seconds, clock=clock,
                                                                by_token=True)

    def find(self, digest: str) -> TokenRecord | None:
        return self._records.get(digest, lambda: self._tokens.find(digest), _live_access)


def _live_access(record: TokenRecord | None) -> bool:
    return record is not None and record.kind == ACCESS and record.revoked_at is None
