"""per-org policies (Setup: Password Policies, Session Settings, Network Access, the API
allocation), and a connected app's session timeout that follows the org's (issue #12)

Revision ID: 0017_org_policies
Revises: 0016_bulk_hard_delete
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_org_policies"
down_revision = "0016_bulk_hard_delete"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # {"lockout_attempts": 3, "trusted_ip_ranges": [["10.0.0.0", "10.0.0.255"]], ...}; a key
    # that is absent takes the server's setting.
    op.add_column("orgs", sa.Column("policies", sa.JSON(), nullable=False, server_default="{}"))
    # 0 = "the org's session timeout" (apps.session_timeout_minutes stays NOT NULL: a batch
    # copy of ``apps`` would drop a table the tokens reference). Apps had to give a timeout
    # and 120 was the default everywhere, the org's default too: those follow the org now.
    op.execute(sa.text("UPDATE apps SET session_timeout_minutes = 0 "
                       "WHERE session_timeout_minutes = 120"))


def downgrade() -> None:
    op.execute(sa.text("UPDATE apps SET session_timeout_minutes = 120 "
                       "WHERE session_timeout_minutes = 0"))
    op.drop_column("orgs", "policies")
