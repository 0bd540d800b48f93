"""Bulk API jobs and their parts: uploads and results in bounded pieces (issue #14)

Revision ID: 0013_bulk_jobs
Revises: 0012_sharing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_bulk_jobs"
down_revision = "0012_sharing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("id", sa.String(length=18), nullable=False),
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("user_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=True),
        sa.Column("api_version", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", sa.BigInteger(), nullable=False),
        sa.Column("external_id_field", sa.String(length=80), nullable=True),
        sa.Column("column_delimiter", sa.String(length=12), nullable=False),
        sa.Column("line_ending", sa.String(length=4), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("bytes_uploaded", sa.BigInteger(), nullable=False),
        sa.Column("rows_done", sa.BigInteger(), nullable=False),
        sa.Column("records_processed", sa.BigInteger(), nullable=False),
        sa.Column("records_failed", sa.BigInteger(), nullable=False),
        sa.Column("processing_ms", sa.BigInteger(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_jobs")),
    )
    op.create_index(op.f("ix_bulk_jobs_org_id_kind_created_at_id"), "bulk_jobs",
                    ["org_id", "kind", "created_at", "id"])
    op.create_index(op.f("ix_bulk_jobs_state"), "bulk_jobs", ["state"])
    op.create_table(
        "bulk_job_parts",
        sa.Column("job_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "kind", "seq", name=op.f("pk_bulk_job_parts")),
    )


def downgrade() -> None:
    op.drop_table("bulk_job_parts")
    op.drop_index(op.f("ix_bulk_jobs_state"), table_name="bulk_jobs")
    op.drop_index(op.f("ix_bulk_jobs_org_id_kind_created_at_id"), table_name="bulk_jobs")
    op.drop_table("bulk_jobs")
