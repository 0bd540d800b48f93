"""The flow tests' world (one org, admin, confidential app) plus clients from chosen peers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.flows import conftest as flows
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.domain.models import IpRange
from localforce.settings import Settings
from localforce.web.app import create_app

# The flow tests' fixtures, shared.
key_pair = flows.key_pair
world = flows.world

OFFICE = IpRange("198.51.100.0", "198.51.100.255")
TRUSTED_PROXY = "10.0.0.1"
IP_RESTRICTED = {"error": "invalid_grant",
                 "error_description": "ip restricted or invalid login hours"}
AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(home, trusted_proxies=[TRUSTED_PROXY])


@pytest.fixture
def peer(world: World) -> Iterator[object]:
    """``peer(ip)``: a client connecting from ``ip`` over HTTPS (non-loopback peers must)."""
    clients: list[TestClient] = []

    def make(ip: str) -> TestClient:
        client = TestClient(create_app(world.services), base_url="https://testserver",
                            client=(ip, 40000))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def restrict_profile(world: World, *ranges: IpRange) -> None:
    store = world.services.directory.store
    profile = store.get_profile(world.user.profile_id)
    assert profile is not None
    store.save_profile(replace(profile, login_ip_ranges=ranges))


def password_form(**overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "password", "client_id": KEY, "client_secret": SECRET,
        "username": "admin@acme.test", "password": PASSWORD + SECURITY_TOKEN}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}
