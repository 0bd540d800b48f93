"""Client-credentials grants and introspection on the event loop, on SQLite and PostgreSQL
(web/hotpath.py ``INLINE_GRANTS`` / ``CACHED_GRANTS``): once the directory's caches (and, for
introspection, oauth/recent_tokens.py) hold what a call reads, it is answered without a request
thread; a change to the app is read again (on PostgreSQL by a thread, the loop refusing the
read) and the stale app is never used; a revoked token is inactive at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from tests.conftest import FixedClock, make_settings
from tests.flows.conftest import KEY, SECRET, KeyPair, World
from tests.flows.test_jwt_bearer import GRANT as JWT_BEARER
from tests.flows.test_jwt_bearer import signed

from localforce import caching
from localforce.bootstrap import Services, build
from localforce.domain.models import PermittedUsers
from localforce.security.tokens import digest
from localforce.storage.sql import tables as t
from localforce.web import threads


@pytest.fixture
def services(database_url: str, home: Path, clock: FixedClock) -> Iterator[Services]:
    # Cached facts live a minute here: a slow machine must not see them expire mid-test.
    built = build(make_settings(home, database_url, cache_seconds=60), clock=clock)
    yield built
    built.close()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The calls handed to a request thread."""
    handed: list[Any] = []
    run = threads.run

    async def counted(work: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(work)
        return await run(work, *args, **kwargs)

    monkeypatch.setattr(threads, "run", counted)
    return handed


def grant(world: World) -> Any:
    return world.client.post("/services/oauth2/token", auth=(KEY, SECRET),
                             data={"grant_type": "client_credentials"})


def jwt_grant(world: World, key_pair: KeyPair) -> Any:
    return world.token(grant_type=JWT_BEARER, assertion=signed(key_pair))


def test_a_grant_whose_reads_are_cached_needs_no_request_thread(world: World,
                                                                hops: list[Any]) -> None:
    first = grant(world)
    # The first grant of the minute also writes the user's LastLoginDate, which empties the
    # directory's caches (storage/sql/directory_store.py): the second fills them again.
    assert first.status_code == 200 and grant(world).status_code == 200
    hops.clear()
    answers = [grant(world) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert hops == []
    assert {a.json()["access_token"] for a in answers}.isdisjoint({first.json()["access_token"]})
    assert [a.json().keys() for a in answers] == [first.json().keys()] * 3
    assert len(world.history()) == 5  # every grant's LoginHistory row, once


def test_a_jwt_bearer_grant_whose_reads_are_cached_needs_no_request_thread(
        world: World, key_pair: KeyPair, hops: list[Any]) -> None:
    # Pre-authorized by profile, as the bench's app: no consent to read.
    world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED,
                   authorized_profile_ids=(world.user.profile_id,))
    assert jwt_grant(world, key_pair).status_code == 200  # LastLoginDate written (see above)
    assert jwt_grant(world, key_pair).status_code == 200
    hops.clear()
    answers = [jwt_grant(world, key_pair) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert hops == []
    assert len({a.json()["access_token"] for a in answers}) == 3
    assert len(world.history()) == 5


def test_a_changed_app_is_read_again_and_the_stale_one_refused(world: World,
                                                              hops: list[Any]) -> None:
    assert grant(world).status_code == 200
    assert grant(world).status_code == 200  # the app cached (see above)
    world.save_app(enable_client_credentials=False)
    hops.clear()
    refused = grant(world)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    on_postgres = world.services.engine.dialect.name == "postgresql"
    assert len(hops) == (1 if on_postgres else 0)  # the loop refused the read: a thread read
    assert len(world.history()) == 2  # the refusal names no user: no LoginHistory row


def introspect(world: World, token: str) -> Any:
    return world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                             data={"token": token}).json()


def test_introspecting_a_known_token_needs_no_request_thread(world: World,
                                                            hops: list[Any]) -> None:
    token = grant(world).json()["access_token"]
    assert grant(world).status_code == 200  # the app cached (see above)
    first = introspect(world, token)
    hops.clear()
    assert [introspect(world, token) for _ in range(3)] == [first] * 3
    assert first["active"] is True
    assert hops == []


def test_a_token_revoked_here_or_announced_by_another_process_is_inactive_at_once(
        world: World) -> None:
    here, elsewhere = (grant(world).json()["access_token"] for _ in range(2))
    assert introspect(world, here)["active"] and introspect(world, elsewhere)["active"]
    world.client.post("/services/oauth2/revoke", data={"token": here})
    assert introspect(world, here) == {"active": False}
    # Another process revokes ``elsewhere``: its commit, then its announcement, which the
    # Redis fan-out delivers here as ``caching.apply``.
    with world.services.engine.begin() as c:
        c.execute(update(t.tokens).where(t.tokens.c.digest == digest(elsewhere))
                  .values(revoked_at=1))
    caching.apply(digest(elsewhere))
    assert introspect(world, elsewhere) == {"active": False}
