"""The browser flows' test world: one org, a user, a confidential web app, the ASGI app.

Test modules import ``world_fixture`` from here: it is the fixture named ``world`` for that
module, shadowing ``tests/flows/conftest.py``'s (the token flows' world) there only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.domain import ids
from localforce.domain.models import ConnectedApp, Org, User
from localforce.storage.sql import tables as t
from localforce.web.app import create_app

PASSWORD = "Secret-123!"
SECRET = "s3cr3t-consumer"
KEY = "3MVG9acme.web"
CALLBACK = "https://app.example.com/cb"


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

    def token(self, **form: str) -> Any:
        return self.client.post("/services/oauth2/token", data=form)

    def identity_url(self, user: User | None = None) -> str:
        u = user or self.user
        return f"http://testserver/id/{ids.to18(u.org_id)}/{ids.to18(u.id)}"

    def history(self) -> list[dict[str, object]]:
        with self.services.engine.connect() as c:
            rows = c.execute(select(t.login_history)
                             .order_by(t.login_history.c.login_time)).mappings().all()
        return [dict(r) for r in rows]


@pytest.fixture(name="world")
def world_fixture(services: Services) -> Iterator[World]:
    directory = services.directory
    org = directory.create_org("Acme", my_domain="acme")
    user, _ = directory.create_user(org.id, "ada@acme.test", PASSWORD, "System Administrator",
                                    first_name="Ada", last_name="Admin")
    app = directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=org.id, name="Acme Web", consumer_key=KEY,
        callback_urls=(CALLBACK,), scopes=("api", "refresh_token", "openid", "id", "web")),
        SECRET)
    with TestClient(create_app(services), client=("127.0.0.1", 50000)) as client:
        yield World(services, client, org, user, app)
