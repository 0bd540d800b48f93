"""Deleting OAuth state nobody can use any more: dead tokens, expired codes, device codes,
browser sessions and remembered JWT ids.

Dead rows are kept for a retention period first (default 7 days): a replayed authorization
code or rotated refresh token is recognised, and its whole grant revoked, only while its row
still exists (RFC 6749 §4.1.2, §10.4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

DEFAULT_RETENTION_DAYS = 7


class Purgeable(Protocol):
    def purge(self, before: int) -> int:
        """Delete rows dead since before ``before`` (epoch seconds); returns how many."""
        ...


@dataclass
class Housekeeping:
    stores: Mapping[str, Purgeable]
    clock: Callable[[], float]

    def purge(self, retention_days: int = DEFAULT_RETENTION_DAYS) -> dict[str, int]:
        if retention_days < 0:
            raise ValueError("retention must not be negative")
        before = int(self.clock()) - retention_days * 86400
        return {name: store.purge(before) for name, store in self.stores.items()}
