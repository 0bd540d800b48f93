"""Record reads (queries, retrieves, declarations) never wait for SQLite's write lock: they run
in deferred transactions on a WAL snapshot, so a long write elsewhere (the API usage log, a
token insert, another worker's DML) does not stall them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import FixedClock, make_settings

from localforce.bootstrap import Services, build
from localforce.domain.principal import Principal


@pytest.fixture
def svc(home: Path, clock: FixedClock) -> Iterator[Services]:
    services = build(make_settings(home), clock=clock)
    yield services
    services.close()


def test_queries_and_retrieves_read_while_another_connection_holds_the_write_lock(
        svc: Services) -> None:
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "a@acme.test", "Passw0rd-long!",
                                        "System Administrator", last_name="A")
    admin: Principal = svc.oauth.sessions.resolve(
        svc.oauth.issuer.issue_session(user).access_token)
    created = svc.data.records.create(admin, "Account", {"Name": "Acme"})
    writer = svc.engine.connect()
    try:
        # Autobegin: BEGIN IMMEDIATE, the write lock, held until the rollback below.
        writer.execute(text("UPDATE sobject_account SET \"Name\" = 'Changed'"))
        result = svc.data.queries.query(admin, "SELECT Name FROM Account", "62.0")
        assert [r["Name"] for r in result["records"]] == ["Acme"]  # the committed snapshot
        got = svc.data.records.retrieve(admin, "Account", created.id, "62.0", "Name")
        assert got["Name"] == "Acme"
    finally:
        writer.rollback()
        writer.close()
