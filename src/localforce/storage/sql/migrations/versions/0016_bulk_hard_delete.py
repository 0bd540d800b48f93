"""The "Bulk API Hard Delete" permission on profiles and permission sets (issue #14)

Off everywhere, System Administrator included, as on Salesforce: an admin grants it.

Revision ID: 0016_bulk_hard_delete
Revises: 0015_search_fill
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_bulk_hard_delete"
down_revision = "0015_search_fill"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as 0012: a batch copy of ``profiles`` would drop a referenced table.
    for table in ("profiles", "permission_sets"):
        op.add_column(table, sa.Column("bulk_api_hard_delete", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    for table in ("permission_sets", "profiles"):
        op.drop_column(table, "bulk_api_hard_delete")
