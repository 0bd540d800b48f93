"""a permission set's Label beside its API name (Setup's New Permission Set, issue #12)

Revision ID: 0018_permission_set_label
Revises: 0017_org_policies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_permission_set_label"
down_revision = "0017_org_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("permission_sets", sa.Column("label", sa.String(80), nullable=True))
    op.execute(sa.text("UPDATE permission_sets SET label = name"))


def downgrade() -> None:
    op.drop_column("permission_sets", "label")
