"""Migration 0015 on SQLite: the SOSL index's per-row insert triggers go (the record store fills
the index once per transaction), rows already indexed stay, the downgrade brings them back."""

from __future__ import annotations

from pathlib import Path

from tests.storage.migrating import downgrade

from localforce.storage.sql.engine import make_engine, upgrade


def triggers(engine: object) -> set[str]:
    with engine.connect() as c:  # type: ignore[attr-defined]
        return {r[0] for r in c.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE "
            "'search_account_%'")}


def matches(engine: object, word: str) -> int:
    with engine.connect() as c:  # type: ignore[attr-defined]
        return int(c.exec_driver_sql("SELECT count(*) FROM search_account WHERE "
                                     "search_account MATCH ?", (word,)).scalar_one())



def insert(engine: object, record_id: str, name: str) -> None:
    with engine.begin() as c:  # type: ignore[attr-defined]
        c.exec_driver_sql("INSERT INTO sobject_account (org_id, \"Id\", \"Name\") VALUES "
                          "('00D000000000001AAA', ?, ?)", (record_id, name))


def test_insert_trigger_restored_by_the_downgrade_and_dropped_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fill.db'}")
    upgrade(engine)
    assert triggers(engine) == {"search_account_ad", "search_account_au"}
    insert(engine, "001000000000001AAA", "Unindexed Row")  # not through the record store
    assert matches(engine, "unindexed") == 0
    downgrade(engine, "0014_bulk_batches")  # as a database before 0015 was
    assert triggers(engine) == {"search_account_ai", "search_account_ad", "search_account_au"}
    insert(engine, "001000000000002AAA", "Before Upgrade")
    assert matches(engine, "before") == 1  # the old trigger indexed it
    upgrade(engine)
    assert triggers(engine) == {"search_account_ad", "search_account_au"}
    assert matches(engine, "before") == 1  # kept
    engine.dispose()
