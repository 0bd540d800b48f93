"""RFC 9126 pushed authorization requests and the per-app "require PAR" (issue #17)

Revision ID: 0019_pushed_requests
Revises: 0018_permission_set_label
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_pushed_requests"
down_revision = "0018_permission_set_label"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.String(length=18), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("consumed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_pushed_requests")),
    )
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("require_par", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("require_par")
    op.drop_table("pushed_requests")
