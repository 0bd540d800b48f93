"""The user's row after a login: the lockout count always reset, the last login written at most
once a minute per process (credentials.Logins.succeeded)."""

from __future__ import annotations

from sqlalchemy import select
from tests.conftest import FixedClock
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.storage.sql import tables as t


def user_row(world: World) -> dict[str, object]:
    with world.services.engine.connect() as c:
        row = c.execute(select(t.users).where(t.users.c.id == world.user.id)).mappings().one()
    return dict(row)


def grant(world: World) -> int:
    return world.token(grant_type="client_credentials", client_id=KEY,  # type: ignore[attr-defined]
                       client_secret=SECRET).status_code


def test_last_login_is_written_once_a_minute(world: World, clock: FixedClock) -> None:
    start = int(clock())
    assert grant(world) == 200
    assert user_row(world)["last_login_at"] == start
    clock.advance(59)
    assert grant(world) == 200
    assert user_row(world)["last_login_at"] == start
    clock.advance(1)
    assert grant(world) == 200
    assert user_row(world)["last_login_at"] == start + 60


def test_a_success_right_after_a_failure_resets_the_count(world: World) -> None:
    password = {"grant_type": "password", "client_id": KEY, "client_secret": SECRET,
                "username": world.user.username}
    assert grant(world) == 200  # the last login was just written
    assert world.token(**password, password="wrong").status_code == 400  # type: ignore[attr-defined]
    assert user_row(world)["failed_logins"] == 1
    ok = world.token(**password, password=PASSWORD + SECURITY_TOKEN)  # type: ignore[attr-defined]
    assert ok.status_code == 200
    assert user_row(world)["failed_logins"] == 0
