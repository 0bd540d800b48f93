"""What localforce writes to disk is private to its user (issue #16): the home folder 0700, the
database with its WAL and SHM files, the master key, TLS private keys and demo.json 0600."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from localforce.bootstrap import build
from localforce.directory.demo import create_demo_org
from localforce.security.tls import ensure_local_ca
from localforce.settings import Settings
from localforce.storage.sql.engine import private_database_file


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_every_file_of_a_new_home_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = build(Settings(home=home, public_url="http://testserver"))
    try:
        create_demo_org(services.directory, home, "http://127.0.0.1:8000")
        tls = ensure_local_ca(home, time.time)
        db = home / "localforce.db"
        assert mode(home) == 0o700
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), home / "master.key",
                     home / "demo.json", tls.keyfile):
            assert path.exists(), path
            assert mode(path) == 0o600, (path, oct(mode(path)))
    finally:
        services.close()


def test_a_database_readable_by_others_is_reported(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "old.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="localforce.storage"):
        private_database_file(db)
    assert f"{db} is readable by other users (mode 644); chmod 600 it" in caplog.text
