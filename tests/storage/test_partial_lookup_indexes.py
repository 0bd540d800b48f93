"""Lookup indexes leave out the rows whose lookup is null (migration 0024, issue #14): the
upgrade remakes the old full indexes as partial ones and the downgrade back; a null lookup
costs no index entry; the databases still use the index for ``=``, ``IN`` and a semi-join."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from tests.storage.migrating import downgrade

from localforce.storage.sql.engine import make_engine, upgrade

ORG = "00D000000000001AAA"
LOOKUPS = {"ix_sobject_account_ownerid", "ix_sobject_account_parentid",
           "ix_sobject_account_masterrecordid", "ix_sobject_account_createdbyid",
           "ix_sobject_account_lastmodifiedbyid", "ix_sobject_account_dandbcompanyid"}


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def definitions(engine: Engine) -> dict[str, str]:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            rows = c.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                     "AND tbl_name = 'sobject_account' AND sql IS NOT NULL")
        else:
            rows = c.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE "
                                     "tablename = 'sobject_account' "
                                     "AND schemaname = current_schema()")
        return {str(name): str(sql) for name, sql in rows}


def partial(engine: Engine) -> set[str]:
    return {name for name, sql in definitions(engine).items() if " WHERE " in sql.upper()}



def test_the_lookup_indexes_are_partial_and_the_migration_goes_both_ways(
        engine: Engine) -> None:
    assert partial(engine) == LOOKUPS  # a new database: partial from the table's creation
    assert "ix_sobject_account_name" in definitions(engine)  # lower(Name): not partial
    downgrade(engine, "0023_jwt_access_tokens")
    assert partial(engine) == set()
    assert LOOKUPS <= set(definitions(engine))  # made again, not lost
    upgrade(engine)
    assert partial(engine) == LOOKUPS
    upgrade(engine)  # at the head: nothing to do
    assert partial(engine) == LOOKUPS


def test_a_custom_objects_lookup_index_is_made_partial(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'custom.db'}")
    upgrade(engine)
    with engine.begin() as c:  # a custom object's table as an older server left it
        c.exec_driver_sql('CREATE TABLE sobject_thing__c (org_id VARCHAR(18) NOT NULL, '
                          '"Id" VARCHAR(18) PRIMARY KEY, "IsDeleted" BOOLEAN, '
                          '"Account__c" VARCHAR(18))')
        c.exec_driver_sql('CREATE INDEX ix_sobject_thing__c_account__c ON sobject_thing__c '
                          '(org_id, "Account__c", "IsDeleted", "Id")')
    downgrade(engine, "0023_jwt_access_tokens")
    upgrade(engine)
    with engine.connect() as c:
        sql = c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = "
                                "'ix_sobject_thing__c_account__c'").scalar_one()
    assert sql.endswith('WHERE "Account__c" IS NOT NULL')
    engine.dispose()


def test_the_partial_index_serves_equality_in_and_a_semi_join(engine: Engine) -> None:
    with engine.begin() as c:
        for n in range(50):
            c.execute(text(
                'INSERT INTO sobject_account (org_id, "Id", "Name", "IsDeleted", "ParentId") '
                "VALUES (:org, :id, :name, false, :parent)"),
                {"org": ORG, "id": f"001{n:015d}", "name": f"A{n}",
                 "parent": f"001{n % 3:015d}" if n % 10 == 0 else None})
        sqlite = engine.dialect.name == "sqlite"
        c.execute(text("ANALYZE"))
        if not sqlite:  # 50 rows: PostgreSQL would rather read the table
            c.execute(text("SET LOCAL enable_seqscan = off"))

        def plan(where: str, **args: object) -> str:
            explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
            rows = c.execute(text(
                f'{explain} SELECT "Id" FROM sobject_account WHERE org_id = :org '
                f'AND "IsDeleted" = false AND {where}'), {"org": ORG, **args}).all()
            return " | ".join(str(r[-1]) for r in rows)

        parent = "001000000000000001"
        assert "ix_sobject_account_parentid" in plan('"ParentId" = :p', p=parent)
        assert "ix_sobject_account_parentid" in plan('"ParentId" IN (:p, :q)', p=parent, q="x")
        assert "ix_sobject_account_parentid" in plan(
            '"ParentId" IN (SELECT "Id" FROM sobject_account WHERE "Name" = :n)', n="A1")
        count = 'SELECT count(*) FROM sobject_account WHERE org_id = :org AND "ParentId" '
        found = c.execute(text(count + "= :p"), {"org": ORG, "p": parent}).scalar_one()
        nulls = c.execute(text(count + "IS NULL"), {"org": ORG}).scalar_one()
        assert (found, nulls) == (2, 45)  # rows 10 and 40; the null rows still found
