"""SQLite's SOSL index is contentless (migration 0025, issue #14): rows filled, updated and
deleted leave exactly their words in it; the migration makes an older index contentless
with its rows and the downgrade makes it a content table again, finding the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.storage.migrating import downgrade

from localforce.data.schema import ObjectDef, standard_objects
from localforce.storage.sql import search_index
from localforce.storage.sql.engine import make_engine, upgrade

ORG = "00D000000000001AAA"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'search.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def account() -> ObjectDef:
    return next(o for o in standard_objects() if o.name == "Account")


def found(engine: Engine, query: str) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.exec_driver_sql(
            'SELECT a."Id" FROM search_account JOIN sobject_account a '
            "ON a.rowid = search_account.rowid WHERE search_account MATCH ? ORDER BY 1",
            (query,))]


def check(engine: Engine) -> None:
    """FTS5's own check of the index's structure."""
    with engine.begin() as c:
        c.exec_driver_sql("INSERT INTO search_account(search_account) VALUES ('integrity-check')")


def options(engine: Engine) -> str:
    with engine.connect() as c:
        return str(c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = "
                                     "'search_account'").scalar_one())


def insert(engine: Engine, rows: list[tuple[str, str, str | None]]) -> None:
    """As a Bulk insert does: the rows, then one fill naming the columns it gave."""
    with engine.begin() as c:
        since = search_index.high_water(c, account())
        c.exec_driver_sql('INSERT INTO sobject_account (org_id, "Id", "Name", "BillingCity", '
                          '"IsDeleted") VALUES ' + ", ".join(["(?, ?, ?, ?, 0)"] * len(rows)),
                          tuple(v for row in rows for v in (ORG, *row)))
        search_index.index_after(c, account(), since, ["Id", "Name", "BillingCity"])



A, B, C = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"


def test_rows_leave_the_index_with_the_words_they_came_with(engine: Engine) -> None:
    assert "content = ''" in options(engine) and "columnsize = 0" in options(engine)
    insert(engine, [(A, "Alpha Works", "Oslo"), (B, "Beta Works", None), (C, "Gamma", "Oslo")])
    assert found(engine, "works") == [A, B]
    assert found(engine, "osl*") == [A, C]
    assert found(engine, "{name}: oslo") == []
    with engine.begin() as c:
        c.exec_driver_sql('UPDATE sobject_account SET "Name" = ? WHERE "Id" = ?',
                          ("Delta Works", A))
        c.exec_driver_sql('UPDATE sobject_account SET "BillingCity" = ? WHERE "Id" = ?',
                          ("Bergen", B))
        c.exec_driver_sql('DELETE FROM sobject_account WHERE "Id" = ?', (C,))
    assert found(engine, "alpha") == []
    assert found(engine, "delta") == [A]
    assert found(engine, "bergen") == [B]
    assert found(engine, "oslo") == [A]  # C's words went with it
    assert found(engine, "gamma") == []
    check(engine)


def test_the_migration_makes_an_index_contentless_with_its_rows_and_back(
        engine: Engine) -> None:
    downgrade(engine, "0024_partial_lookup_indexes")  # the index as an older server made it
    assert "content" not in options(engine)
    insert(engine, [(A, "Alpha Works", "Oslo"), (B, "Beta Works", None)])
    with engine.begin() as c:
        c.exec_driver_sql('DELETE FROM sobject_account WHERE "Id" = ?', (B,))
    upgrade(engine)
    assert "content = ''" in options(engine)
    assert found(engine, "works") == [A]  # filled again from the record table
    assert found(engine, "oslo") == [A]
    with engine.begin() as c:  # its triggers are the contentless ones
        c.exec_driver_sql('UPDATE sobject_account SET "Name" = ? WHERE "Id" = ?', ("Omega", A))
    assert found(engine, "works") == []
    assert found(engine, "omega") == [A]
    check(engine)
    downgrade(engine, "0024_partial_lookup_indexes")
    assert "content" not in options(engine)
    assert found(engine, "omega") == [A]
    with engine.begin() as c:
        c.exec_driver_sql('DELETE FROM sobject_account WHERE "Id" = ?', (A,))
    assert found(engine, "omega") == []
    check(engine)
