"""RFC 9068: the per-app "JWT access tokens" (issue #17)

Revision ID: 0023_jwt_access_tokens
Revises: 0022_token_exchange
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_jwt_access_tokens"
down_revision = "0022_token_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("jwt_access_tokens", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("jwt_access_tokens")
