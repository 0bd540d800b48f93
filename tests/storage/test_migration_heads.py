"""``upgrade`` skips Alembic when the database is already at the scripts' heads (start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from localforce.storage.sql.engine import (
    MIGRATIONS,
    _literals,
    is_current,
    make_engine,
    pending_revisions,
    script_heads,
    upgrade,
)


def test_script_heads_are_alembics_heads() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert script_heads() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_only_a_database_at_every_head_is_current(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'heads.db'}")
    assert is_current(engine) is False  # no alembic_version table yet
    upgrade(engine, "0001")
    assert is_current(engine) is False
    upgrade(engine)  # one revision applied: Alembic still runs the rest
    assert pending_revisions(engine) == []
    assert is_current(engine) is True
    upgrade(engine)  # nothing to do
    assert pending_revisions(engine) == []
    engine.dispose()


def test_revisions_read_from_literals_annotated_or_not(tmp_path: Path) -> None:
    script = tmp_path / "0009_x.py"
    script.write_text('revision: str = "0009_x"\n'
                      'down_revision: str | tuple[str, ...] | None = ("0001", "0007")\n'
                      'branch_labels = None\n')
    assert _literals(script) == {"revision": "0009_x", "down_revision": ("0001", "0007")}


def test_a_revision_that_is_not_a_literal_leaves_the_decision_to_alembic(tmp_path: Path) -> None:
    script = tmp_path / "0009_x.py"
    script.write_text('import os\nrevision = os.environ["REV"]\ndown_revision = "0001"\n')
    assert _literals(script) == {}
