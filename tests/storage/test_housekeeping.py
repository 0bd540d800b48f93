"""Housekeeping deletes only state nobody can use any more (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import FixedClock, make_settings

from localforce.bootstrap import Services, build
from localforce.oauth.artifacts import AuthorizationCode
from localforce.oauth.ports import ACCESS, REFRESH, TokenRecord
from localforce.storage.sql import tables as t

DAY = 86400


@pytest.fixture
def svc(database_url: str, home: Path) -> Iterator[Services]:
    clock = FixedClock()
    services = build(make_settings(home, database_url), clock=clock)
    yield services
    services.close()


def _count(svc: Services, table) -> int:  # type: ignore[no-untyped-def]
    with svc.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def test_purge_keeps_live_and_recently_dead_state(svc: Services) -> None:
    now = int(svc.clock())
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "u@acme.test", "pw-123456", "Standard User")
    tokens = svc.oauth.tokens

    def token(name: str, kind: str, **kw: object) -> None:
        tokens.add(TokenRecord(name.ljust(64, "0"), kind, org.id, user.id, None, ("api",), "f",
                               "test", now - 30 * DAY, now - 30 * DAY, **kw))  # type: ignore[arg-type]

    token("a", ACCESS, idle_timeout=7200)                    # idle for 30 days: dead long ago
    token("b", REFRESH)                                      # valid until revoked: kept
    token("c", REFRESH, expires_at=now + DAY)                # live: kept
    token("d", REFRESH, expires_at=now - 10 * DAY)           # expired 10 days ago: purged
    token("e", REFRESH, expires_at=now - DAY)                # expired yesterday: kept (retention)
    token("f", REFRESH)
    tokens.revoke("f".ljust(64, "0"), now - 8 * DAY)         # revoked 8 days ago: purged
    codes = svc.housekeeping.stores["grants"]
    for name, expires in (("old", now - 9 * DAY), ("fresh", now + 600)):
        codes.save_code(AuthorizationCode(  # type: ignore[attr-defined]
            name.ljust(64, "0"), "app", user.id, "https://cb", ("api",), None, None, None,
            "fam", now - 10 * DAY, expires))
    assert svc.oauth.replay.remember("jti-old", now - 8 * DAY, now - 9 * DAY)
    assert svc.oauth.replay.remember("jti-new", now + 300, now)

    counts = svc.housekeeping.purge(retention_days=7)

    assert counts == {"tokens": 3, "grants": 1, "jwt_ids": 1}
    assert _count(svc, t.tokens) == 3 and _count(svc, t.auth_codes) == 1
    assert _count(svc, t.jwt_replay) == 1
    assert svc.oauth.replay.remember("jti-new", now + 300, now) is False  # still a replay


def test_negative_retention_is_refused(svc: Services) -> None:
    with pytest.raises(ValueError):
        svc.housekeeping.purge(retention_days=-1)


def test_the_token_purge_goes_in_batches_to_the_end(svc: Services) -> None:
    """A backlog larger than a batch is purged whole, a batch per transaction."""
    now = int(svc.clock())
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "u@acme.test", "pw-123456", "Standard User")
    tokens = svc.oauth.tokens
    for i in range(25):
        tokens.add(TokenRecord(f"dead{i:02d}x".ljust(64, "0"), REFRESH, org.id, user.id, None,
                               ("api",), "f", "test", now - 30 * DAY, now - 30 * DAY,
                               expires_at=now - 10 * DAY))
    tokens.add(TokenRecord("live".ljust(64, "0"), REFRESH, org.id, user.id, None, ("api",),
                           "f", "test", now, now, expires_at=now + DAY))
    assert tokens.purge(now - 7 * DAY, batch=10) == 25  # type: ignore[call-arg]
    assert _count(svc, t.tokens) == 1
