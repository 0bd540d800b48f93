"""limits counters and the API usage log

Revision ID: 0006_audit
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_audit"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket", name=op.f("pk_counters")),
    )
    op.create_table(
        "api_usage_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=True),
        sa.Column("user_id", sa.String(length=18), nullable=True),
        sa.Column("app_id", sa.String(length=18), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("duration_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_usage_log")),
    )
    op.create_index(op.f("ix_api_usage_log_at_ms"), "api_usage_log", ["at_ms"])
    op.create_index(op.f("ix_api_usage_log_org_id_at_ms"), "api_usage_log", ["org_id", "at_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_usage_log_org_id_at_ms"), table_name="api_usage_log")
    op.drop_index(op.f("ix_api_usage_log_at_ms"), table_name="api_usage_log")
    op.drop_table("api_usage_log")
    op.drop_table("counters")
