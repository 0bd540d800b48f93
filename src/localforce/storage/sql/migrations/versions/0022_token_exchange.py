"""RFC 8693 token exchange: the per-app "allow token exchange" and the actor of an exchanged
token (issue #17)

Revision ID: 0022_token_exchange
Revises: 0021_private_key_jwt
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_token_exchange"
down_revision = "0021_private_key_jwt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("allow_token_exchange", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("act", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("act")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("allow_token_exchange")
