"""Real servers for real clients (see ``server.py``), started on first use, once a session.

``live_server`` serves HTTPS with the local CA from ``serve --tls``; ``live_server_http``
serves plain HTTP on loopback, as ``make serve`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.clients.server import LiveServer, start_server, stop_server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """HTTPS (``serve --tls``), for every client; simple-salesforce insists on https."""
    server = start_server(tmp_path_factory.mktemp("live") / "tls", tls=True)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def live_server_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Plain HTTP on loopback, as `make serve` runs by default."""
    server = start_server(tmp_path_factory.mktemp("live") / "http", tls=False)
    yield server
    stop_server(server)
