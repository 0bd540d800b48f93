"""Import ``on_both_backends`` into a test module to run each of its tests on SQLite and on
PostgreSQL (it overrides the ``settings`` fixture for that module only)."""

from __future__ import annotations

import pytest
from tests.conftest import make_settings

from localforce.settings import Settings


@pytest.fixture(name="settings")
def on_both_backends(home, database_url) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(home, database_url)
