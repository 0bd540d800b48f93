"""Bulk API 1.0: a batch is a job row with its job's id; the job's contentType (issue #14)

Revision ID: 0014_bulk_batches
Revises: 0013_bulk_jobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_bulk_batches"
down_revision = "0013_bulk_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("content_type", sa.String(length=8), nullable=True))
        batch.create_index(op.f("ix_bulk_jobs_parent_id"), ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("bulk_jobs") as batch:
        batch.drop_index(op.f("ix_bulk_jobs_parent_id"))
        batch.drop_column("content_type")
        batch.drop_column("parent_id")
