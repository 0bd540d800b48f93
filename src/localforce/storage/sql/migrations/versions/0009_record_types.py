"""data API: the RecordType record table (issue #19)

Revision ID: 0009_record_types
Revises: 0008_sales_objects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_record_types"
down_revision = "0008_sales_objects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from localforce.data.schema import standard_schema
    from localforce.storage.sql.record_tables import record_table

    record_type = standard_schema().get("RecordType")
    assert record_type is not None
    metadata = sa.MetaData()
    record_table(record_type, metadata)
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from localforce.storage.sql.record_tables import table_name

    op.drop_table(table_name("RecordType"))
