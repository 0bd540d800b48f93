"""``localforce serve`` in a subprocess on a free port, as a user runs it, for client tests.

Each server has its own home, SQLite database and seed (``SEED``: one org, an admin, a
connected app with a JWT certificate). Clients get the base URL, the credentials, and an
environment with no proxy variables that trusts the local CA.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from localforce.domain.ids import to18
from localforce.oauth.issuing import IssuePolicy

#: How these tests mint a refresh token (as the authorization-code grant would).
CODE_GRANT = IssuePolicy("authorization_code", with_refresh=True)

ORG_ID = to18("00D5g000004SfmE")
USERNAME = "admin@compat.test"
PASSWORD = "Compat-Pass-1"
SECURITY_TOKEN = "COMPATTOKEN1"
CONSUMER_KEY = "3MVG9compat.key"
CONSUMER_SECRET = "compat-secret-1"
CALLBACK = "http://127.0.0.1:8765/callback"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

SEED = f"""
[org]
name = "Compat"
id = "{ORG_ID}"
my_domain = "compat"
username_password_flow = true

[[permission_sets]]
name = "CompatReaders"
objects = {{ Account = ["read"] }}

[[users]]
username = "{USERNAME}"
password = "{PASSWORD}"
security_token = "{SECURITY_TOKEN}"
profile = "System Administrator"
first_name = "Ada"
last_name = "Admin"

[[apps]]
name = "Compat App"
consumer_key = "{CONSUMER_KEY}"
consumer_secret = "{CONSUMER_SECRET}"
callback_urls = ["{CALLBACK}", "http://localhost:1717/OauthRedirect"]
scopes = ["api", "refresh_token", "web", "openid", "id", "full"]
certificate = "jwt.crt"
enable_client_credentials = true
run_as = "{USERNAME}"
permitted_users = "admin_approved"
authorized_profiles = ["System Administrator"]
"""


@dataclass
class LiveServer:
    """A running ``localforce serve`` and what a client needs to reach it."""

    url: str
    home: Path
    log: Path
    ca: Path | None
    jwt_key: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    org_id: str = ORG_ID
    username: str = USERNAME
    password: str = PASSWORD
    security_token: str = SECURITY_TOKEN
    consumer_key: str = CONSUMER_KEY
    consumer_secret: str = CONSUMER_SECRET
    callback: str = CALLBACK

    @property
    def hostport(self) -> str:
        return self.url.split("://", 1)[1]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for a client process: no proxies (jsforce and sf ignore NO_PROXY),
        the CA trusted by Python and Node."""
        env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
        if self.ca is not None:
            env.update(REQUESTS_CA_BUNDLE=str(self.ca), SSL_CERT_FILE=str(self.ca),
                       NODE_EXTRA_CA_CERTS=str(self.ca))
        env.update(extra)
        return env

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=str(self.ca) if self.ca else True,
                            trust_env=False, timeout=30)

    def access_token(self) -> str:
        """A fresh session by the password grant (for tests whose subject is not login)."""
        with self.http() as client:
            response = client.post("/services/oauth2/token", data={
                "grant_type": "password", "client_id": self.consumer_key,
                "client_secret": self.consumer_secret, "username": self.username,
                "password": self.password + self.security_token})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def refresh_token(self) -> str:
        """A refresh token as the web-server flow hands it out, minted in the server's store."""
        from localforce.bootstrap import build
        from localforce.settings import Settings

        services = build(Settings(home=self.home, public_url=self.url), migrate=False)
        try:
            store = services.directory.store
            user, app = store.find_user(self.username), store.find_app_by_key(self.consumer_key)
            assert user is not None and app is not None
            body = services.oauth.issuer.issue(app, user, ("api", "refresh_token"),
                                               CODE_GRANT).body()
        finally:
            services.close()
        return str(body["refresh_token"])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_jwt_certificate(folder: Path) -> Path:
    """An RSA key and self-signed certificate, as for a Salesforce connected app's JWT flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "compat-jwt")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    (folder / "jwt.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path = folder / "jwt.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    return path


def start_server(folder: Path, tls: bool, *extra: str, ca: Path | None = None,
                 settings: dict[str, str] | None = None, port: int | None = None) -> LiveServer:
    """Run ``localforce serve [--tls] EXTRA`` the way a user does and wait for ``/healthz``.
    ``ca``: what clients trust, for an operator's own ``--tls-cert``; ``settings``: more
    ``LOCALFORCE_*`` environment; a ``folder`` used before is the same server started again."""
    if not (folder / "seed.toml").exists():
        folder.mkdir(parents=True)
        write_jwt_certificate(folder)
        (folder / "seed.toml").write_text(SEED)
    jwt_key = folder / "jwt.key"
    port = port or free_port()
    home = folder / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    env["LOCALFORCE_HOME"] = str(home)
    env.update(settings or {})
    args = [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
            "--seed", str(folder / "seed.toml"), *(["--tls"] if tls else []), *extra]
    log = folder / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=folder, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    scheme = "https" if tls or "--tls-cert" in extra else "http"
    ca = home / "tls" / "ca.pem" if tls else ca
    server = LiveServer(f"{scheme}://127.0.0.1:{port}", home, log, ca, jwt_key, process)
    wait_until_healthy(server)
    return server


def wait_until_healthy(server: LiveServer, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"localforce serve exited {server.process.returncode}:\n"
                        f"{server.output()}")
        try:
            with server.http() as client:
                if client.get("/healthz").status_code == 200:
                    return
        except (httpx.TransportError, FileNotFoundError):  # not listening, or no CA yet
            pass
        time.sleep(0.1)
    stop_server(server)
    pytest.fail(f"localforce serve did not answer /healthz in {seconds}s:\n{server.output()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
