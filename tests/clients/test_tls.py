"""``localforce serve --tls`` as a user runs it: the local CA, trust, HSTS, own certificates."""

from __future__ import annotations

import shutil
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests.clients.server import LiveServer, start_server, stop_server

from localforce.security.tls import ensure_local_ca
from localforce.web.middleware import HSTS_VALUE

pytestmark = pytest.mark.clients


def test_serve_tls_prints_how_to_trust_the_ca(live_server: LiveServer) -> None:
    ca = str(live_server.ca)
    output = live_server.output()
    for line in (f"export REQUESTS_CA_BUNDLE={ca}", f"export SSL_CERT_FILE={ca}",
                 f"export NODE_EXTRA_CA_CERTS={ca}"):
        assert line in output


def test_the_ca_and_server_keys_are_private(live_server: LiveServer) -> None:
    folder = live_server.home / "tls"
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "server.key").stat().st_mode) == 0o600


def test_a_client_trusting_the_ca_gets_https_with_hsts(live_server: LiveServer) -> None:
    with live_server.http() as client:
        response = client.get("/services/data")
    assert response.status_code == 200
    assert response.url.scheme == "https"
    assert response.headers["strict-transport-security"] == HSTS_VALUE


def test_a_client_not_trusting_the_ca_refuses_the_connection(live_server: LiveServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{live_server.url}/healthz", trust_env=False)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_cacert(live_server: LiveServer) -> None:
    ok = subprocess.run(["curl", "-sS", "--fail", "--cacert", str(live_server.ca),
                         f"{live_server.url}/healthz"], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout) == (0, '{"status":"ok"}')
    refused = subprocess.run(["curl", "-sS", f"{live_server.url}/healthz"],
                             capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert refused.returncode == 60  # "Peer certificate cannot be authenticated"


def test_the_operators_own_certificate(tmp_path: Path) -> None:
    """``--tls-cert/--tls-key``: served as given; no local CA is created."""
    own = ensure_local_ca(tmp_path / "operator", time.time)
    server = start_server(tmp_path / "srv", False, "--tls-cert", str(own.certfile),
                          "--tls-key", str(own.keyfile), ca=own.ca)
    try:
        assert server.url.startswith("https://")
        with httpx.Client(verify=str(own.ca), trust_env=False) as client:
            assert client.get(f"{server.url}/healthz").json() == {"status": "ok"}
        assert not (server.home / "tls").exists()
        assert "REQUESTS_CA_BUNDLE" not in server.output()
    finally:
        stop_server(server)
