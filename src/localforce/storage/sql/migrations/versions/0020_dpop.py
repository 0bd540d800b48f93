"""RFC 9449 DPoP: the per-app "require DPoP" and the key a token is bound to (issue #17)

Revision ID: 0020_dpop
Revises: 0019_pushed_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_dpop"
down_revision = "0019_pushed_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("require_dpop", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("jkt", sa.String(length=43), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("jkt")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("require_dpop")
