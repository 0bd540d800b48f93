"""SOSL on SQLite: new rows indexed by one statement per transaction, not a trigger per row

The record store now fills each FTS5 table itself, in the transaction that inserts the rows
(storage/sql/search_index.py: ``high_water`` / ``index_after``); the ``AFTER INSERT``
triggers go. The delete and update triggers stay. PostgreSQL has no such trigger.

Revision ID: 0015_search_fill
Revises: 0014_bulk_batches
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0015_search_fill"
down_revision = "0014_bulk_batches"
branch_labels = None
depends_on = None

_TRIGGERS = ("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "
             "AND name LIKE 'search\\_%\\_{}' ESCAPE '\\'")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for name, _, _ in bind.execute(sa.text(_TRIGGERS.format("ai"))).all():
        op.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def downgrade() -> None:
    """Each index's insert trigger again, made of its update trigger's insert statement (custom
    objects' indexes included)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for name, table, sql in bind.execute(sa.text(_TRIGGERS.format("au"))).all():
        add = re.search(r"(INSERT INTO .*;)\s*END\s*$", sql, re.DOTALL)
        if add is None:
            continue
        index = name[:-len("_au")]
        table_sql = '"' + table.replace('"', '""') + '"'
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {index}_ai AFTER INSERT ON {table_sql} "
                   f"BEGIN {add.group(1)} END")
