"""Shared fixtures: settings on a temporary home, services on SQLite or PostgreSQL, the app.

PostgreSQL tests use a throw-away database on 127.0.0.1:5432. When the server is absent they
skip, except under CI (``CI=true`` or ``LOCALFORCE_REQUIRE_SERVICES=1``), where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from localforce.bootstrap import Services, build
from localforce.security.secretbox import generate_key
from localforce.settings import Settings

PG_ADMIN_URL = os.environ.get("LOCALFORCE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOCALFORCE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("LOCALFORCE_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    if services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


class FixedClock:
    """An injectable clock: tests move time instead of sleeping."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL."""
    name = f"lf_test_{secrets.token_hex(4)}"
    try:
        # pool_pre_ping: its pooled connection would not outlive a restart of the server
        # (tests/replicas/test_haproxy.py restarts it).
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "absent"
        missing_service(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.__class__.__name__}")
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (and nothing else)."""
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\n"
                           "print(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def make_settings(home: Path, database_url: str | None = None, **values: object) -> Settings:
    return Settings(home=home, database_url=database_url or f"sqlite:///{home / 'lf.db'}",
                    secret_key=generate_key(), public_url="http://testserver", **values)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, home: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{home / 'lf.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(home: Path) -> Settings:
    return make_settings(home)


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    built = build(settings, clock=clock)
    yield built
    built.close()


def pytest_configure(config: pytest.Config) -> None:
    """The pytest plugin (``localforce.testing``) comes in through its pytest11 entry point;
    a venv installed before the entry point existed loads it from here instead."""
    if not config.pluginmanager.hasplugin("localforce"):
        config.pluginmanager.import_plugin("localforce.testing.plugin")
