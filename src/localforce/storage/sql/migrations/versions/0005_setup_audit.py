"""setup audit trail

Revision ID: 0005_setup_audit
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_setup_audit"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setup_audit_trail",
        sa.Column("id", sa.String(length=18), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("display", sa.String(length=1000), nullable=False),
        sa.Column("created_date", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.String(length=18), nullable=True),
        sa.Column("created_by_context", sa.String(length=80), nullable=True),
        sa.Column("delegate_user", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_audit_trail")),
    )
    op.create_index(op.f("ix_setup_audit_trail_org_id_created_date"), "setup_audit_trail",
                    ["org_id", "created_date"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_setup_audit_trail_org_id_created_date"), table_name="setup_audit_trail")
    op.drop_table("setup_audit_trail")
