"""The tokens table, migrated, carries the indexes ``tables.py`` declares and no other: every
issued token writes one entry per index, so one that nothing searches by is pure cost."""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from tests.storage.migrating import downgrade

from localforce.storage.sql import tables
from localforce.storage.sql.engine import make_engine, upgrade


def _indexed(engine: Engine) -> set[tuple[str, ...]]:
    """The column lists of the tokens table's indexes in the database."""
    return {tuple(i["column_names"]) for i in inspect(engine).get_indexes("tokens")}


def test_migrated_token_indexes_are_the_declared_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        migrated = _indexed(engine)
    finally:
        engine.dispose()
    declared = {tuple(c.name for c in i.columns) for i in tables.tokens.indexes}
    assert migrated == declared
    assert ("parent_digest",) not in migrated
    assert {("family_id",), ("user_id", "app_id")} <= migrated  # what revocation searches by


def test_downgrade_restores_the_parent_index(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        downgrade(engine, "0025_contentless_search")
        indexed = _indexed(engine)
    finally:
        engine.dispose()
    assert ("parent_digest",) in indexed
