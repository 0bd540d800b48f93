"""Without pool pre-ping, a PostgreSQL restart fails at most the statement that meets a dropped
connection: the pool is invalidated and the next checkouts reconnect."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from localforce.bootstrap import Services
from localforce.storage.sql.engine import normalise_url


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # PostgreSQL only
def test_reads_recover_after_the_server_drops_every_connection(
        svc: Services, ids: tuple[str, str, str]) -> None:
    org_id, user_id, _ = ids
    # Fill the pool with several live connections.
    held = [svc.engine.connect() for _ in range(3)]
    for connection in held:
        connection.execute(text("SELECT 1"))
        connection.close()
    admin = create_engine(normalise_url(svc.settings.effective_database_url),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        dropped = c.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    assert dropped >= 3
    failures = 0
    for _ in range(5):
        try:
            assert svc.directory.store.get_org(org_id) is not None
            svc.directory.store.find_user("a@acme.test")
        except DBAPIError as error:
            assert error.connection_invalidated
            failures += 1
    assert failures <= 1, failures
    assert svc.directory.store.find_user("a@acme.test").id == user_id  # type: ignore[union-attr]
