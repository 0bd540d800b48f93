"""data API: record tables for the sales and content objects (issue #19)

Product2, Pricebook2, PricebookEntry, OpportunityLineItem, CampaignMember, Note, Attachment.

Revision ID: 0008_sales_objects
Revises: 0007_cleanup
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sales_objects"
down_revision = "0007_cleanup"
branch_labels = None
depends_on = None

OBJECTS = ("Product2", "Pricebook2", "PricebookEntry", "OpportunityLineItem", "CampaignMember",
           "Note", "Attachment")


def upgrade() -> None:
    # The tables as this revision's describe catalogue defines them; later catalogue changes
    # are applied by the record store's table sync (as in 0004_records).
    from localforce.data.schema import standard_objects
    from localforce.storage.sql.record_tables import record_table

    metadata = sa.MetaData()
    for obj in standard_objects():
        if obj.name in OBJECTS:
            record_table(obj, metadata)
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from localforce.storage.sql.record_tables import table_name

    for name in OBJECTS:
        op.drop_table(table_name(name))
