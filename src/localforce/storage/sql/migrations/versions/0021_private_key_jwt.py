"""RFC 7523 §2.2: the per-app "require private_key_jwt" client authentication (issue #17)

Revision ID: 0021_private_key_jwt
Revises: 0020_dpop
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_private_key_jwt"
down_revision = "0020_dpop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("require_private_key_jwt", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("require_private_key_jwt")
