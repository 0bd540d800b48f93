"""data API: custom object declarations, query cursors, API usage, standard record tables

Revision ID: 0004_records
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_records"
down_revision = "0001"
branch_labels = None
depends_on = None

RECORD_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event",
                  "Campaign", "OpportunityContactRole")


def upgrade() -> None:
    op.create_table(
        "custom_objects",
        sa.Column("org_id", sa.String(18), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("key_prefix", sa.String(3), nullable=True),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "name", name=op.f("pk_custom_objects")),
    )
    op.create_table(
        "query_cursors",
        sa.Column("id", sa.String(18), nullable=False),
        sa.Column("org_id", sa.String(18), nullable=False),
        sa.Column("user_id", sa.String(18), nullable=False),
        sa.Column("soql", sa.Text(), nullable=False),
        sa.Column("query_all", sa.Boolean(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("total_size", sa.Integer(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_cursors")),
    )
    op.create_index(op.f("ix_query_cursors_expires_at"), "query_cursors", ["expires_at"])
    op.create_table(
        "api_usage",
        sa.Column("org_id", sa.String(18), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "day", name=op.f("pk_api_usage")),
    )
    # One table per standard record object, from the describe catalogue shipped with this
    # revision's code; later catalogue changes are applied by the record store's table sync.
    from localforce.data.schema import standard_objects
    from localforce.storage.sql.record_tables import record_table

    metadata = sa.MetaData()
    for obj in standard_objects():
        if obj.name in RECORD_OBJECTS:
            record_table(obj, metadata)
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from localforce.storage.sql.record_tables import table_name

    for name in RECORD_OBJECTS:
        op.drop_table(table_name(name))
    op.drop_table("api_usage")
    op.drop_index(op.f("ix_query_cursors_expires_at"), table_name="query_cursors")
    op.drop_table("query_cursors")
    op.drop_table("custom_objects")
