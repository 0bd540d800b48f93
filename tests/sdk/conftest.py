"""The SDK against a real ``localforce serve --tls`` (tests/clients/server.py's), counting at
the server: its access log has one JSON line per request."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.clients.server import LiveServer, start_server, stop_server

TOKEN_PATH = "/services/oauth2/token"


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("sdk") / "tls", tls=True)
    yield server
    stop_server(server)


def logged_paths(server: LiveServer) -> list[str]:
    """Every request path in the server's access log, once the log has caught up with all
    requests answered so far (a marker request is logged after them)."""
    marker = f"/sdk-marker-{uuid.uuid4().hex}"
    with server.http() as http:
        http.get(marker)
    for _ in range(100):
        paths = [json.loads(line).get("path") for line in server.output().splitlines()
                 if line.startswith("{")]
        if marker in paths:
            return paths
        time.sleep(0.05)
    raise AssertionError("the server never logged the marker request")


def token_requests(server: LiveServer) -> int:
    return logged_paths(server).count(TOKEN_PATH)
