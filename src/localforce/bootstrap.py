"""The composition root: settings -> engine, stores, services, clock.

Nothing is built at import time. ``build(settings)`` is called once per process (the CLI, each
server worker, each test); ``web.app.create_app(services)`` turns the result into the ASGI app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from localforce.directory.service import Directory
from localforce.security.secretbox import SecretBox, decode_key, load_or_create_key_file
from localforce.settings import Settings
from localforce.storage.sql.directory_store import SqlDirectoryStore
from localforce.storage.sql.engine import make_engine, upgrade

Clock = Callable[[], float]


@dataclass
class Services:
    settings: Settings
    engine: Engine
    box: SecretBox
    directory: Directory
    clock: Clock

    def close(self) -> None:
        self.engine.dispose()


def master_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return decode_key(settings.secret_key)
    return load_or_create_key_file(settings.home / "master.key")


def build(settings: Settings, clock: Clock = time.time, migrate: bool = True) -> Services:
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    box = SecretBox(master_key(settings))
    directory = Directory(SqlDirectoryStore(engine), box, clock)
    return Services(settings, engine, box, directory, clock)
