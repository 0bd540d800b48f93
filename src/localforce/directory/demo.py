"""The demo org `localforce serve` creates on an empty store: an admin, an app, a few Accounts.

Its credentials are printed at creation and kept, for the next start, in ``home/demo.json``
(mode 0600, beside the master key); the database itself holds only hashes and sealed secrets.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from localforce.directory.seed import RecordSeeder, apply_seed
from localforce.directory.service import Directory

DEMO_ACCOUNTS = (
    {"Name": "Acme Corp", "Industry": "Technology", "Type": "Customer - Direct"},
    {"Name": "Global Media", "Industry": "Media", "Type": "Prospect"},
    {"Name": "Edge Communications", "Industry": "Electronics", "Type": "Customer - Channel"},
    {"Name": "Burlington Textiles", "Industry": "Apparel", "Type": "Customer - Direct"},
    {"Name": "United Oil & Gas", "Industry": "Energy", "Type": "Customer - Direct"},
)


@dataclass
class DemoCredentials:
    org_id: str
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str


def create_demo_org(directory: Directory, home: Path, public_url: str,
                    records: RecordSeeder | None = None) -> DemoCredentials:
    password = "Demo-" + secrets.token_urlsafe(9)
    token = secrets.token_hex(8).upper()
    secret = secrets.token_hex(32).upper()
    seed = {
        # The demo org allows the legacy password flow so the README's curl examples work;
        # orgs from a seed file have it off unless they say otherwise.
        "org": {"name": "Demo", "my_domain": "demo", "username_password_flow": True},
        "users": [{
            "username": "admin@demo.localforce", "password": password, "security_token": token,
            "profile": "System Administrator", "first_name": "Ada", "last_name": "Admin",
            "email": "admin@demo.localforce",
        }],
        "apps": [{
            "name": "Demo App", "consumer_secret": secret,
            "callback_urls": [f"{public_url}/callback", "http://localhost:1717/OauthRedirect",
                              "http://127.0.0.1:8765/callback"],
            "scopes": ["api", "refresh_token", "openid", "id", "web", "full"],
            "require_secret_web_server": True, "enable_implicit": True,
            "enable_device_flow": True, "enable_client_credentials": True,
            "run_as": "admin@demo.localforce",
        }],
        "records": {"Account": [dict(a) for a in DEMO_ACCOUNTS]} if records else {},
    }
    report = apply_seed(directory, seed, "demo org", records=records)
    app = directory.store.find_app(report.org.id, "Demo App")
    assert app is not None
    credentials = DemoCredentials(report.org.id, "admin@demo.localforce", password, token,
                                  app.consumer_key, secret)
    _save(home, credentials)
    return credentials


def load_demo_credentials(home: Path) -> DemoCredentials | None:
    path = home / "demo.json"
    if not path.exists():
        return None
    return DemoCredentials(**json.loads(path.read_text()))


def _save(home: Path, credentials: DemoCredentials) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "demo.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(credentials), handle, indent=2)
