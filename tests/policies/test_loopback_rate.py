"""The per-IP login rate limit by default spares direct loopback clients (local test suites
and CI log in from 127.0.0.1 all day) but not a request a local reverse proxy relays, nor any
remote client; ``rate_limit_loopback`` puts loopback back under the limit."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.policies import conftest as policies
from tests.policies.conftest import AUTH_FAILURE, TRUSTED_PROXY, World, password_form

from localforce.settings import Settings
from localforce.web.app import create_app

key_pair, world, peer = policies.key_pair, policies.world, policies.peer  # shared fixtures

RATE = {"error": "rate_limit_exceeded", "error_description": "number of logins exceeded"}
LIMIT = 3


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    # The per-user limit off: only the per-IP one is under test.
    return make_settings(home, trusted_proxies=[TRUSTED_PROXY], token_rate_per_ip_minute=LIMIT,
                         login_rate_per_user_hour=0)


def _answers(client: Any, times: int, **headers: str) -> list[Any]:
    bad = password_form(password="wrong")
    return [client.post("/services/oauth2/token", data=bad, headers=headers).json()
            for _ in range(times)]


def test_direct_loopback_clients_are_not_limited_by_default(world: World) -> None:
    assert _answers(world.client, LIMIT * 3) == [AUTH_FAILURE] * (LIMIT * 3)


def test_a_request_relayed_by_a_local_proxy_is_limited(world: World) -> None:
    """An untrusted proxy on this host (TLS passed through): its requests share the loopback
    address's budget."""
    with TestClient(create_app(world.services), base_url="https://testserver",
                    client=("127.0.0.1", 40000)) as relay:
        answers = _answers(relay, LIMIT + 2, **{"X-Forwarded-For": "203.0.113.7"})
        assert answers == [AUTH_FAILURE] * LIMIT + [RATE] * 2
        forwarded = _answers(relay, 1, Forwarded="for=203.0.113.7")
        assert forwarded == [RATE]


def test_remote_clients_are_limited(world: World, peer: Any) -> None:
    assert _answers(peer("203.0.113.7"), LIMIT + 1) == [AUTH_FAILURE] * LIMIT + [RATE]
    # ...each address on its own budget; loopback still spared.
    assert _answers(peer("203.0.113.8"), 1) == [AUTH_FAILURE]
    assert _answers(world.client, 1) == [AUTH_FAILURE]


def test_the_setting_puts_loopback_under_the_limit(world: World) -> None:
    world.services.settings = world.services.settings.with_overrides(
        rate_limit_loopback=True)
    with TestClient(create_app(world.services), client=("127.0.0.1", 40000)) as client:
        assert _answers(client, LIMIT + 1) == [AUTH_FAILURE] * LIMIT + [RATE]
