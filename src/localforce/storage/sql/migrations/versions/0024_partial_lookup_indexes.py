"""Record tables: each lookup's index leaves out the rows whose lookup is null (issue #14)

``record_tables.record_indexes`` now declares the indexes over a plain column (lookups and
numeric external IDs: ``org_id, <column>, IsDeleted, Id``) with ``WHERE <column> IS NOT
NULL``. Here every such index of the record tables already there (standard and custom
objects alike) is made again that way; a table created after this gets them so directly.

Revision ID: 0024_partial_lookup_indexes
Revises: 0023_jwt_access_tokens
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0024_partial_lookup_indexes"
down_revision = "0023_jwt_access_tokens"
branch_labels = None
depends_on = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: The columns of a lookup's index in its CREATE statement (either database's spelling).
_COLUMNS = re.compile(r'\(\s*"?org_id"?\s*,\s*"?([^",()]+)"?\s*,\s*"?IsDeleted"?\s*,'
                      r'\s*"?Id"?\s*\)', re.IGNORECASE)


def _lookup_indexes(bind: sa.Connection) -> Iterator[tuple[str, str, str, bool]]:
    """(table, index, column, partial now) per record-table index over ``org_id, <column>,
    IsDeleted, Id`` (not the paging index, not the ``lower(...)`` ones). Read off each
    index's CREATE statement: SQLAlchemy's reflection skips expression indexes with a
    warning."""
    if bind.dialect.name == "sqlite":
        rows = bind.execute(sa.text(
            "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "
            "AND sql IS NOT NULL AND tbl_name LIKE 'sobject\\_%' ESCAPE '\\'"))
    else:
        rows = bind.execute(sa.text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename LIKE 'sobject\\_%'"))
    for table, name, sql in rows.all():
        found = _COLUMNS.search(str(sql))
        if found is not None and found.group(1) != "IsDeleted":
            yield str(table), str(name), found.group(1), " WHERE " in str(sql).upper()


def _remake(partial: bool) -> None:
    bind = op.get_bind()
    for table, name, column, is_partial in list(_lookup_indexes(bind)):
        if is_partial == partial:
            continue
        where = f" WHERE {_quote(column)} IS NOT NULL" if partial else ""
        op.execute(f"DROP INDEX {_quote(name)}")
        op.execute(f"CREATE INDEX {_quote(name)} ON {_quote(table)} "
                   f'(org_id, {_quote(column)}, "IsDeleted", "Id"){where}')


def upgrade() -> None:
    _remake(True)


def downgrade() -> None:
    _remake(False)
