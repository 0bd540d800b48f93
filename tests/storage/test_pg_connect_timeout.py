"""A PostgreSQL that accepts the TCP connection and never answers fails a new connection after
``PG_CONNECT_TIMEOUT`` seconds instead of holding the request forever (issue #15's outages)."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from localforce.storage.sql import engine as engines


def test_a_silent_server_fails_the_connection_instead_of_hanging(
        monkeypatch: pytest.MonkeyPatch) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nothing ever answers
    port = silent.getsockname()[1]
    monkeypatch.setattr(engines, "PG_CONNECT_TIMEOUT", 1)
    engine = engines.make_engine(f"postgresql://postgres@127.0.0.1:{port}/test")
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1"))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout=30)  # far beyond the 1 s bound; only a hang reaches it
    silent.close()
    engine.dispose()
    assert not worker.is_alive(), "the connection attempt hung"
    assert isinstance(outcome[0], OperationalError)
