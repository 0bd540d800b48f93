"""One org with an admin, a confidential app (with a JWT certificate) and the ASGI app, for the
flow tests. The test client connects from loopback, as a local client would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.domain import ids
from localforce.domain.models import ConnectedApp, Org, User
from localforce.web.app import create_app

PASSWORD = "Secret-123!"
SECURITY_TOKEN = "TOKEN123"
SECRET = "s3cr3t-consumer"
KEY = "3MVG9acme.integration"


@dataclass
class KeyPair:
    private_pem: bytes
    certificate_pem: str


def make_key_pair(name: str = "acme-jwt") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return KeyPair(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()),
                   cert.public_bytes(serialization.Encoding.PEM).decode())


@pytest.fixture(scope="session")
def key_pair() -> KeyPair:
    return make_key_pair()


@pytest.fixture(scope="session")
def other_key_pair() -> KeyPair:
    return make_key_pair("attacker")


@dataclass
class World:
    services: Services
    client: TestClient
    org: Org
    user: User
    app: ConnectedApp

    def save_app(self, **changes: object) -> ConnectedApp:
        """Change the app's settings (secret unchanged)."""
        self.app = replace(self.app, **changes)  # type: ignore[arg-type]
        self.services.directory.store.save_app(self.app)
        return self.app

    def set_org(self, **changes: object) -> None:
        self.org = replace(self.org, **changes)  # type: ignore[arg-type]
        self.services.directory.store.save_org(self.org)

    def token(self, **form: str) -> object:
        return self.client.post("/services/oauth2/token", data=form)

    def identity_url(self, user: User | None = None) -> str:
        u = user or self.user
        return f"http://testserver/id/{ids.to18(u.org_id)}/{ids.to18(u.id)}"

    def history(self) -> list[dict[str, object]]:
        from sqlalchemy import select

        from localforce.storage.sql import tables as t
        with self.services.engine.connect() as c:
            rows = c.execute(select(t.login_history)
                             .order_by(t.login_history.c.login_time)).mappings().all()
        return [dict(r) for r in rows]


@pytest.fixture
def world(services: Services, key_pair: KeyPair) -> Iterator[World]:
    directory = services.directory
    org = directory.create_org("Acme", my_domain="acme", username_password_flow=True)
    user, _ = directory.create_user(org.id, "admin@acme.test", PASSWORD, "System Administrator",
                                    first_name="Ada", last_name="Admin",
                                    security_token=SECURITY_TOKEN)
    app = directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=org.id, name="Acme Integration", consumer_key=KEY,
        callback_urls=("https://app.example.com/cb",),
        scopes=("api", "refresh_token", "openid", "id", "web"),
        certificate=key_pair.certificate_pem, enable_client_credentials=True,
        run_as_user_id=user.id), SECRET)
    with TestClient(create_app(services), client=("127.0.0.1", 50000)) as client:
        yield World(services, client, org, user, app)
