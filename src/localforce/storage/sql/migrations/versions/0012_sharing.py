"""the sharing model: org-wide defaults per object, and the Transfer Record permission
(issue #20)

Revision ID: 0012_sharing
Revises: 0011_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sharing"
down_revision = "0011_search"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch copy of ``profiles``
# would have to drop a table that ``users`` references.


def upgrade() -> None:
    op.add_column("orgs", sa.Column("sharing", sa.JSON(), nullable=False, server_default="{}"))
    for table in ("profiles", "permission_sets"):
        op.add_column(table, sa.Column("transfer_record", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    # System Administrator transfers records, as on Salesforce.
    op.execute(sa.text("UPDATE profiles SET transfer_record = :yes WHERE standard = :yes "
                       "AND name = 'System Administrator'").bindparams(yes=True))


def downgrade() -> None:
    for table in ("permission_sets", "profiles"):
        op.drop_column(table, "transfer_record")
    op.drop_column("orgs", "sharing")
