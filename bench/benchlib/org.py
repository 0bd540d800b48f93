"""The benchmark org: its credentials, its seed file, and the `localforce serve` that loads it.

The seed holds one System Administrator, an app that allows client credentials, JWT bearer
(a certificate made here) and, through the org switch, the password flow; and a second app
that rotates refresh tokens. The server is started exactly as a user would start it.
"""

from __future__ import annotations

import datetime
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .procs import Server

USERNAME = "bench@bench.localforce"
AUDIENCE = "https://login.salesforce.com"


@dataclass(frozen=True)
class App:
    name: str
    key: str
    secret: str
    rotate: bool

    def client_body(self) -> dict[str, str]:
        return {"client_id": self.key, "client_secret": self.secret}


@dataclass(frozen=True)
class Org:
    password: str
    security_token: str
    private_key_pem: bytes
    certificate_pem: str
    app: App
    rotating: App

    @classmethod
    def generate(cls) -> Org:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(
            password="Bench-" + secrets.token_urlsafe(12),
            security_token=secrets.token_hex(8).upper(),
            private_key_pem=key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()),
            certificate_pem=_self_signed(key),
            app=App("Bench App", "bench_app_" + secrets.token_hex(8), secrets.token_hex(32),
                    rotate=False),
            rotating=App("Bench Rotating App", "bench_rot_" + secrets.token_hex(8),
                         secrets.token_hex(32), rotate=True))

    def seed_toml(self) -> str:
        apps = "\n".join(self._app_toml(a) for a in (self.app, self.rotating))
        accounts = "\n".join(
            f'[[records.Account]]\nName = "Bench Seed Account {i}"\nIndustry = "Technology"\n'
            for i in range(1, 6))
        return f'''# Written by bench/run.py for one benchmark run.
[org]
name = "Bench"
username_password_flow = true

[[users]]
username = "{USERNAME}"
password = "{self.password}"
security_token = "{self.security_token}"
profile = "System Administrator"
first_name = "Bench"
last_name = "Admin"

{apps}
{accounts}'''

    def _app_toml(self, app: App) -> str:
        return f'''[[apps]]
name = "{app.name}"
consumer_key = "{app.key}"
consumer_secret = "{app.secret}"
callback_urls = ["http://127.0.0.1:8765/callback"]
scopes = ["api", "refresh_token"]
certificate = """
{self.certificate_pem}"""
enable_client_credentials = true
run_as = "{USERNAME}"
permitted_users = "admin_approved"
authorized_profiles = ["System Administrator"]
rotate_refresh_tokens = {"true" if app.rotate else "false"}
'''

    # -- request bodies -------------------------------------------------------------------

    def client_credentials_body(self) -> str:
        return urlencode({"grant_type": "client_credentials", **self.app.client_body()})

    def password_body(self) -> str:
        return urlencode({"grant_type": "password", **self.app.client_body(),
                          "username": USERNAME, "password": self.password + self.security_token})

    def jwt_body(self, lifetime_s: int = 170) -> str:
        """A JWT bearer grant (RFC 7523 §2.1) as simple-salesforce sends it: iss, sub, aud, exp
        and no jti, so one assertion may be sent again while it lives (Salesforce allows
        exp up to 3 minutes ahead)."""
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        claims = {"iss": self.app.key, "sub": USERNAME, "aud": AUDIENCE,
                  "exp": int(time.time()) + lifetime_s}
        assertion = jwt.encode({"alg": "RS256"}, claims, RSAKey.import_key(self.private_key_pem))
        return urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                          "assertion": assertion})

    def refresh_body(self, app: App, refresh_token: str = "") -> str:
        # The token goes last so the rotation script can append it to this prefix.
        return urlencode({"grant_type": "refresh_token", **app.client_body()}) + \
            "&refresh_token=" + refresh_token

    def introspect_body(self, token: str) -> str:
        return urlencode({"token": token, "token_type_hint": "access_token",
                          **self.app.client_body()})


def _self_signed(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localforce bench")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def localforce_server(workdir: Path, database_url: str, seed: Path, port: int,
                      workers: int = 2, server: str = "granian") -> Server:
    """`localforce serve` as a user runs it: a seed file, N workers, settings from the
    environment; its home (master key, SQLite file) under ``workdir``."""
    exe = Path(sys.executable).with_name("localforce")
    return Server(
        name="localforce", health_path="/healthz", port=port, log=workdir / "localforce.log",
        argv=[str(exe), "serve", "--workers", str(workers), "--port", str(port),
              "--seed", str(seed), "--database-url", database_url, "--server", server],
        env={"LOCALFORCE_HOME": str(workdir / "home"), **BENCH_SETTINGS}, cwd=workdir)


#: One client address sends everything here, far past the limits meant for real traffic: the
#: per-IP token-endpoint limit and the per-user login limit are off (settings.py says
#: benchmarks turn them off), and the daily API allocation is raised, not removed, so each
#: API call is still counted as in production.
BENCH_SETTINGS = {
    "LOCALFORCE_TOKEN_RATE_PER_IP_MINUTE": "0",
    "LOCALFORCE_LOGIN_RATE_PER_USER_HOUR": "0",
    "LOCALFORCE_DAILY_API_REQUESTS": "1000000000",
}
