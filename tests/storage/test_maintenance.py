"""Scheduled maintenance (oauth/maintenance.py, issue #15): the purge and the signing keys'
schedule, run by one process at a time under the maintenance lock (a PostgreSQL advisory lock,
a file lock beside SQLite), reported in /metrics. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import FixedClock, make_settings

from localforce.bootstrap import Services, build
from localforce.oauth.keys import LONGEST_SESSION
from localforce.oauth.maintenance import Run
from localforce.oauth.ports import REFRESH, TokenRecord
from localforce.security.secretbox import generate_key
from localforce.storage.sql.engine import normalise_url

DAY = 86400
HOUR = 3600


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def make(database_url: str, home: Path, clock: FixedClock) -> Iterator[Callable[..., Services]]:
    """Services on one database: each call is one more process of the same deployment."""
    built: list[Services] = []
    key = generate_key()

    def one(**values: object) -> Services:
        settings = make_settings(home, database_url, **values).with_overrides(secret_key=key)
        built.append(build(settings, clock=clock))
        return built[-1]

    yield one
    for services in built:
        services.close()


def metric(services: Services, line_start: str) -> float | None:
    for line in services.audit.metrics.exposition().decode().splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    return None


def test_a_run_purges_dead_tokens_and_keeps_live_ones(make: Callable[..., Services],
                                                       clock: FixedClock) -> None:
    svc = make(purge_retention_days=7)
    now = int(clock())
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "u@acme.test", "pw-123456", "Standard User")
    for name, expires in (("dead", now - 8 * DAY), ("recent", now - DAY), ("live", now + DAY)):
        svc.oauth.tokens.add(TokenRecord(name.ljust(64, "0"), REFRESH, org.id, user.id, None,
                                         ("api",), "f", "test", now - 30 * DAY, now - 30 * DAY,
                                         expires_at=expires))
    run = svc.maintenance.run_once()
    assert run is not None
    assert run.purged == {"tokens": 1, "grants": 0, "jwt_ids": 0}
    assert svc.oauth.tokens.find("live".ljust(64, "0")) is not None
    assert svc.oauth.tokens.find("recent".ljust(64, "0")) is not None  # kept: retention
    assert svc.oauth.tokens.find("dead".ljust(64, "0")) is None
    assert metric(svc, 'localforce_maintenance_purged_rows_total{store="tokens"}') == 1.0
    assert metric(svc, "localforce_maintenance_last_run_timestamp_seconds") == clock()
    assert metric(svc, "localforce_maintenance_lock_held") == 1.0


def test_keys_rotate_on_schedule_published_ahead_and_retired_after_their_tokens(
        make: Callable[..., Services], clock: FixedClock) -> None:
    svc = make(key_rotation_days=30, key_publish_ahead_hours=24)
    keys = svc.oauth.keys
    first = keys.current().kid
    assert svc.maintenance.run_once() == Run(clock(), {"tokens": 0, "grants": 0, "jwt_ids": 0},
                                             None, 0)
    clock.advance(29 * DAY - 1)
    assert svc.maintenance.run_once().rotated is None  # type: ignore[union-attr]
    clock.advance(1)  # 29 days: the successor is published, a day before it signs
    second = svc.maintenance.run_once().rotated  # type: ignore[union-attr]
    assert second is not None
    assert [k.kid for k in keys.published()] == [first, second]
    assert keys.current().kid == first
    assert svc.maintenance.run_once().rotated is None  # type: ignore[union-attr]  # one only
    clock.advance(DAY)
    assert keys.current().kid == second
    # The last token the first key signed is still live: a JWT access token of the longest
    # session (oauth/keys.py), longer than an id_token.
    clock.advance(LONGEST_SESSION - 1)
    assert svc.maintenance.run_once().keys_retired == 0  # type: ignore[union-attr]
    assert [k.kid for k in keys.published()] == [first, second]
    clock.advance(2)
    assert svc.maintenance.run_once().keys_retired == 1  # type: ignore[union-attr]
    assert [k.kid for k in keys.published()] == [second]
    assert metric(svc, "localforce_signing_key_rotations_total") == 1.0


def test_no_rotation_on_schedule_when_it_is_off(make: Callable[..., Services],
                                                clock: FixedClock) -> None:
    svc = make(key_rotation_days=0)
    first = svc.oauth.keys.current().kid
    clock.advance(400 * DAY)
    assert svc.maintenance.run_once().rotated is None  # type: ignore[union-attr]
    assert [k.kid for k in svc.oauth.keys.published()] == [first]


def test_one_process_at_a_time_holds_the_lock(make: Callable[..., Services]) -> None:
    first, second = make(), make()
    assert first.maintenance.run_once() is not None
    assert second.maintenance.run_once() is None  # the first holds the lock
    assert first.maintenance.run_once() is not None  # and keeps it
    assert metric(second, "localforce_maintenance_lock_held") == 0.0
    first.maintenance.stop()  # a process stopping lets go of it
    assert second.maintenance.run_once() is not None
    assert first.maintenance.run_once() is None


def test_two_schedulers_one_lock(make: Callable[..., Services]) -> None:
    """Both schedulers' threads run every 20 ms for a second: one runs maintenance, the other
    never does; when the first stops, the second takes over."""
    first = make(maintenance_interval_seconds=0.02)
    second = make(maintenance_interval_seconds=0.02)
    runs: dict[str, int] = {"first": 0, "second": 0}
    for name, svc in (("first", first), ("second", second)):
        svc.maintenance.observer.ran = lambda run, name=name: runs.__setitem__(  # type: ignore[misc]
            name, runs[name] + 1)
    first.maintenance.start()
    time.sleep(0.2)
    second.maintenance.start()
    time.sleep(1.0)
    assert runs["first"] > 5 and runs["second"] == 0, runs
    first.maintenance.stop()
    deadline = time.monotonic() + 5
    while runs["second"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runs["second"] > 0
    second.maintenance.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # PostgreSQL only
def test_a_holder_whose_connection_broke_has_lost_the_lock(
        make: Callable[..., Services], database_url: str) -> None:
    """The advisory lock lives with its session: when the server drops the holder's
    connection (a restart), another process takes the lock, and the old holder sees it lost."""
    first, second = make(), make()
    assert first.maintenance.run_once() is not None
    holders = ("FROM pg_locks WHERE locktype = 'advisory' AND database = "
               "(SELECT oid FROM pg_database WHERE datname = current_database())")
    admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        dropped = c.execute(text(f"SELECT count(pg_terminate_backend(pid)) {holders}"))
        assert dropped.scalar_one() == 1
        deadline = time.monotonic() + 5  # the backend exits a moment after the signal
        while c.execute(text(f"SELECT count(*) {holders}")).scalar_one():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    admin.dispose()
    assert second.maintenance.run_once() is not None
    assert first.maintenance.run_once() is None


def test_serve_refuses_a_rotation_shorter_than_its_publication(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from localforce.cli.main import app

    monkeypatch.setenv("LOCALFORCE_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--key-rotation-days", "0.5"])
    assert result.exit_code == 2
    assert result.output == "error: key_rotation_days must be longer than key_publish_ahead_hours\n"
    assert not (tmp_path / "localforce.db").exists()  # refused before anything was created
