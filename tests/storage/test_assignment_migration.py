"""0010 gives each permission set assignment made before it an Id, its org and a time."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from localforce.bootstrap import Services
from localforce.domain import ids as id_words
from localforce.domain.models import PermissionSet
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import MIGRATIONS, upgrade


def test_assignments_made_before_0010_get_ids_and_keep_their_links(svc: Services,
                                                                  ids) -> None:
    org_id, user_id, _ = ids
    directory = svc.directory
    ps = PermissionSet(id_words.new_id("0PS"), org_id, "S")
    directory.store.save_permission_set(ps)
    directory.assign_permission_set(user_id, ps.id)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with svc.engine.begin() as connection:  # back to before 0010: the links lose their Ids
        config.attributes["connection"] = connection
        command.downgrade(config, "0009_record_types")
    upgrade(svc.engine)
    with svc.engine.connect() as c:
        row = c.execute(select(t.user_permission_sets)).mappings().one()
    assert (row["user_id"], row["permission_set_id"], row["org_id"]) == (user_id, ps.id, org_id)
    assert row["id"].startswith("0Pa") and id_words.is_valid(row["id"]) and row["created_at"] > 0
