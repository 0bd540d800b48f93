"""Tokens: the index over ``parent_digest`` goes (issue #18)

No statement searches tokens by the refresh token they came from — a family is revoked by
``family_id`` — so the index only cost every issued token one more entry to write.

Revision ID: 0026_drop_token_parent_index
Revises: 0025_contentless_search
"""

from __future__ import annotations

from alembic import op

revision = "0026_drop_token_parent_index"
down_revision = "0025_contentless_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tokens_parent_digest", table_name="tokens")


def downgrade() -> None:
    op.create_index("ix_tokens_parent_digest", "tokens", ["parent_digest"], unique=False)
