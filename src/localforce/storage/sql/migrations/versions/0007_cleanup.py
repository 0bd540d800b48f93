"""drop the data API's old per-day request counter (``api_usage``)

The rolling API allocation (``counters``, 0006_audit) is what ``Sforce-Limit-Info``,
``/limits`` and the 403 use; nothing writes ``api_usage`` any more.

Revision ID: 0007_cleanup
Revises: 0006_audit, 0004_records (a merge: ``api_usage`` is the data API branch's table, so
the drop runs only after that branch created it)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_cleanup"
down_revision = ("0006_audit", "0004_records")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("api_usage")


def downgrade() -> None:
    op.create_table(
        "api_usage",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "day", name=op.f("pk_api_usage")),
    )
