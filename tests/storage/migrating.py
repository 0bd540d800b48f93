"""Alembic steps for the migration tests: ``upgrade`` is the server's own
(``storage/sql/engine.py``); a downgrade runs the scripts down to ``revision``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from localforce.storage.sql.engine import MIGRATIONS


def downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
