"""SOSL on SQLite: each FTS5 index contentless, without per-row sizes (issue #14)

An FTS5 table kept a second copy of every searchable text and each row's column sizes; a
search reads only the rowids that match, and SOSL does not rank by bm25. Each index
(standard and custom objects alike) is made again with ``content = ''`` and ``columnsize =
0`` and filled from its record table; its delete and update triggers now take a row out with
FTS5's ``'delete'`` command and the row's old values (storage/sql/search_index.py).
Everything is read off each index's update trigger, which names the record table, the
watched columns and the text of each column group. PostgreSQL has no such index.

Revision ID: 0025_contentless_search
Revises: 0024_partial_lookup_indexes
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0025_contentless_search"
down_revision = "0024_partial_lookup_indexes"
branch_labels = None
depends_on = None

_TRIGGERS = ("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' "
             "AND name LIKE 'search\\_%\\_au' ESCAPE '\\'")
_WATCHED = re.compile(r"AFTER UPDATE OF (.*?) ON ", re.DOTALL)
_ADD = re.compile(r"INSERT INTO (\w+)\(rowid, ([^)]*)\) VALUES \(new\.rowid, (.*)\);\s*END\s*$",
                  re.DOTALL)
_TOKENS = "tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3'"
_NEW = re.compile(r"\bnew\.")


def _remake(contentless: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for trigger, table, sql in bind.execute(sa.text(_TRIGGERS)).all():
        if ("'delete'" in sql) == contentless:
            continue  # already as asked
        watched, add = _WATCHED.search(sql), _ADD.search(sql)
        if watched is None or add is None:
            raise RuntimeError(f"unexpected search trigger {trigger}: {sql}")
        name, columns, values = add.group(1), add.group(2), add.group(3)
        quoted = '"' + table.replace('"', '""') + '"'
        if contentless:
            options = f"{_TOKENS}, content = '', columnsize = 0"
            delete = (f"INSERT INTO {name}({name}, rowid, {columns}) "
                      f"VALUES ('delete', old.rowid, {_NEW.sub('old.', values)});")
        else:
            options = _TOKENS
            delete = f"DELETE FROM {name} WHERE rowid = old.rowid;"
        insert = f"INSERT INTO {name}(rowid, {columns}) VALUES (new.rowid, {values});"
        for statement in (
            f"DROP TRIGGER IF EXISTS {name}_ad",
            f"DROP TRIGGER IF EXISTS {name}_au",
            f"DROP TABLE {name}",
            f"CREATE VIRTUAL TABLE {name} USING fts5({columns}, {options})",
            f"CREATE TRIGGER {name}_ad AFTER DELETE ON {quoted} BEGIN {delete} END",
            f"CREATE TRIGGER {name}_au AFTER UPDATE OF {watched.group(1)} ON {quoted} "
            f"BEGIN {delete} {insert} END",
            f"INSERT INTO {name}(rowid, {columns}) "
            f"SELECT rowid, {_NEW.sub(quoted + '.', values)} FROM {quoted}",
        ):
            op.execute(statement)


def upgrade() -> None:
    _remake(True)


def downgrade() -> None:
    _remake(False)
