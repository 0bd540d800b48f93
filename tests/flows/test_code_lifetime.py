"""``authorization_code_seconds``: codes can live less than RFC 6749's ten minutes, never more."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import FixedClock, make_settings
from tests.flows.browser_world import World, world_fixture  # noqa: F401
from tests.flows.test_authorize_codes import EXPIRED, exchange, get_code

from localforce.settings import Settings, SettingsError


@pytest.fixture
def settings(home: Path) -> Settings:
    return make_settings(home, authorization_code_seconds=60)


def test_a_shorter_code_lifetime_is_applied(world: World, clock: FixedClock) -> None:
    fresh = get_code(world)
    clock.advance(59)
    assert exchange(world, fresh).status_code == 200
    stale = get_code(world)
    clock.advance(60)
    assert exchange(world, stale).json() == EXPIRED


def test_a_lifetime_above_ten_minutes_is_refused(home: Path) -> None:
    with pytest.raises(SettingsError, match="authorization_code_seconds: must be at most 600, got 601"):
        make_settings(home, authorization_code_seconds=601)
