"""PermissionSetAssignment as an sObject: each user <-> permission set link gets an Id (0Pa),
its org and a creation time (issue #19)

Revision ID: 0010_permission_set_assignments
Revises: 0009_record_types
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0010_permission_set_assignments"
down_revision = "0009_record_types"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from localforce.domain import ids

    with op.batch_alter_table("user_permission_sets") as batch:
        batch.add_column(sa.Column("id", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("org_id", sa.String(length=18), nullable=True))
        batch.add_column(sa.Column("created_at", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    links = sa.table("user_permission_sets", sa.column("user_id"), sa.column("permission_set_id"),
                     sa.column("id"), sa.column("org_id"), sa.column("created_at"))
    users = sa.table("users", sa.column("id"), sa.column("org_id"))
    rows = bind.execute(sa.select(links.c.user_id, links.c.permission_set_id, users.c.org_id)
                        .join(users, users.c.id == links.c.user_id)).all()
    now = int(time.time())
    for user_id, ps_id, org_id in rows:
        bind.execute(links.update().where(links.c.user_id == user_id,
                                          links.c.permission_set_id == ps_id)
                     .values(id=ids.new_id(ids.KEY_PREFIXES["PermissionSetAssignment"]),
                             org_id=org_id, created_at=now))
    with op.batch_alter_table("user_permission_sets") as batch:
        batch.alter_column("id", existing_type=sa.String(length=18), nullable=False)
        batch.alter_column("org_id", existing_type=sa.String(length=18), nullable=False)
        batch.alter_column("created_at", existing_type=sa.BigInteger(), nullable=False)
        batch.create_unique_constraint(op.f("uq_user_permission_sets_id"), ["id"])
        batch.create_index(op.f("ix_user_permission_sets_org_id"), ["org_id"])


def downgrade() -> None:
    with op.batch_alter_table("user_permission_sets") as batch:
        batch.drop_index(op.f("ix_user_permission_sets_org_id"))
        batch.drop_constraint(op.f("uq_user_permission_sets_id"), type_="unique")
        batch.drop_column("created_at")
        batch.drop_column("org_id")
        batch.drop_column("id")
