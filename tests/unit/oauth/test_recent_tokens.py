"""``RecentTokens`` (oauth/recent_tokens.py): which records it keeps, for how long, and what
drops them."""

from __future__ import annotations

from dataclasses import replace

from localforce import caching
from localforce.oauth.ports import ACCESS, REFRESH, TokenRecord
from localforce.oauth.recent_tokens import RecentTokens

LIVE = TokenRecord(digest="d1", kind=ACCESS, org_id="00D", user_id="005", app_id="0H4",
                   scopes=("api",), family_id="f", flow="client_credentials", issued_at=100,
                   last_used_at=100, idle_timeout=7200)


class Tokens:
    """A token table: ``reads`` counts the lookups that reached it."""

    def __init__(self, *records: TokenRecord) -> None:
        self.rows = {r.digest: r for r in records}
        self.reads = 0

    def find(self, digest: str) -> TokenRecord | None:
        self.reads += 1
        return self.rows.get(digest)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def recent(tokens: Tokens, clock: Clock) -> RecentTokens:
    return RecentTokens(tokens, seconds=1.0, clock=clock)


def test_a_live_access_token_is_read_once_within_the_freshness_bound() -> None:
    tokens, clock = Tokens(LIVE), Clock()
    cache = recent(tokens, clock)
    assert [cache.find("d1") for _ in range(3)] == [LIVE] * 3
    assert tokens.reads == 1
    clock.now += 1.0  # the bound: read again
    tokens.rows["d1"] = revoked = replace(LIVE, revoked_at=1001)
    assert cache.find("d1") == revoked
    assert tokens.reads == 2


def test_refresh_unknown_and_revoked_tokens_are_read_every_time() -> None:
    refresh = replace(LIVE, digest="r1", kind=REFRESH)
    revoked = replace(LIVE, digest="x1", revoked_at=150)
    tokens = Tokens(refresh, revoked)
    cache = recent(tokens, Clock())
    for digest in ("r1", "x1", "unknown"):
        assert cache.find(digest) == tokens.rows.get(digest)
        assert cache.find(digest) == tokens.rows.get(digest)
    assert tokens.reads == 6


def test_a_revocation_in_this_process_or_announced_by_another_drops_the_record() -> None:
    tokens = Tokens(LIVE)
    cache = recent(tokens, Clock())
    cache.find("d1")
    tokens.rows["d1"] = replace(LIVE, revoked_at=101)
    caching.changed("d1")  # what the token store calls after its commit
    assert cache.find("d1").revoked_at == 101  # type: ignore[union-attr]
    tokens.rows["d1"] = LIVE
    cache.find("d1")
    tokens.rows["d1"] = replace(LIVE, revoked_at=102)
    caching.apply("d1")  # another process's announcement, as the Redis fan-out delivers it
    assert cache.find("d1").revoked_at == 102  # type: ignore[union-attr]
    tokens.rows["d1"] = LIVE
    cache.find("d1")
    tokens.rows["d1"] = replace(LIVE, revoked_at=103)
    caching.apply(caching.EVERYTHING)  # a user, app or token family changed
    assert cache.find("d1").revoked_at == 103  # type: ignore[union-attr]


def test_a_read_that_began_before_a_revocation_is_not_kept() -> None:
    tokens, clock = Tokens(LIVE), Clock()
    cache = recent(tokens, clock)
    find = tokens.find

    def revoked_while_reading(digest: str) -> TokenRecord | None:
        record = find(digest)  # the old row, read before the revocation committed
        tokens.rows["d1"] = replace(LIVE, revoked_at=101)
        caching.changed("d1")  # the revocation's commit, as the token store announces it
        return record

    tokens.find = revoked_while_reading  # type: ignore[method-assign]
    assert cache.find("d1") == LIVE
    tokens.find = find  # type: ignore[method-assign]
    assert cache.find("d1").revoked_at == 101  # type: ignore[union-attr]
