"""The browser flows' test world: one org, a user, a confidential web app, the ASGI app
(``World`` itself is the token flows' one, from ``tests/flows/conftest.py``).

Test modules import ``world_fixture`` from here: it is the fixture named ``world`` for that
module, shadowing ``tests/flows/conftest.py``'s (the token flows' world) there only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from tests.flows.conftest import World

from localforce.bootstrap import Services
from localforce.domain import ids
from localforce.domain.models import ConnectedApp
from localforce.web.app import create_app

__all__ = ["CALLBACK", "KEY", "PASSWORD", "SECRET", "World", "world_fixture"]

PASSWORD = "Secret-123!"
SECRET = "s3cr3t-consumer"
KEY = "3MVG9acme.web"
CALLBACK = "https://app.example.com/cb"


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
