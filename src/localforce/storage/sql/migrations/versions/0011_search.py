"""SOSL: a full-text index per searchable record object (issue #14)

SQLite: an FTS5 table and its triggers; PostgreSQL: a GIN expression index
(storage/sql/search_index.py). Custom objects get theirs from the record store's table sync.

Revision ID: 0011_search
Revises: 0010_permission_set_assignments
"""

from __future__ import annotations

from alembic import op

revision = "0011_search"
down_revision = "0010_permission_set_assignments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from localforce.data.schema import standard_objects
    from localforce.storage.sql import search_index

    for obj in standard_objects():
        search_index.create(op.get_bind(), obj)


def downgrade() -> None:
    from localforce.data.schema import standard_objects
    from localforce.storage.sql import search_index

    for obj in standard_objects():
        search_index.drop(op.get_bind(), obj)
