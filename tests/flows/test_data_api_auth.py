"""``web.auth.authenticate``: the session check in front of every data-API route
(salesforce-wire.md §6; clients.md §0 row 13)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.conftest import FixedClock
from tests.flows.conftest import KEY, SECRET, World

from localforce.web.auth import authenticate
from localforce.web.errors import EXCEPTION_HANDLERS

INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture
def api(world: World) -> Iterator[TestClient]:
    """A stand-in data route that only authenticates."""
    def whoami(request: Request) -> Response:
        principal = authenticate(world.services, request)
        return JSONResponse({"user_id": principal.user_id, "scopes": list(principal.scopes)})

    app = Starlette(routes=[Route("/services/data/v59.0/whoami", whoami)],
                    exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield client


def token(world: World, scope: str = "api") -> str:
    return str(world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET,
                           scope=scope).json()["access_token"])


def call(api: TestClient, header: str | None, query: str = ""):  # type: ignore[no-untyped-def]
    headers = {"Authorization": header} if header else {}
    return api.get("/services/data/v59.0/whoami" + query, headers=headers)


def refused(response) -> bool:  # type: ignore[no-untyped-def]
    return (response.status_code == 401 and response.json() == INVALID_SESSION
            and response.headers["content-type"] == "application/json;charset=UTF-8")


@pytest.mark.parametrize("scheme", ["Bearer", "OAuth", "bearer"])
def test_bearer_and_oauth_schemes(world: World, api: TestClient, scheme: str) -> None:
    response = call(api, f"{scheme} {token(world)}")
    assert response.status_code == 200
    assert response.json()["user_id"] == world.user.id


def test_missing_or_garbage_token(api: TestClient) -> None:
    assert refused(call(api, None))
    assert refused(call(api, "Bearer 00D000000000000!nope"))
    assert refused(call(api, "Basic dXNlcjpwYXNz"))


def test_token_in_the_query_string_is_not_accepted(world: World, api: TestClient) -> None:
    t = token(world)
    assert refused(call(api, None, f"?access_token={t}"))
    assert refused(call(api, None, f"?oauth_token={t}"))


def test_revoked_token_is_refused_at_once(world: World, api: TestClient) -> None:
    t = token(world)
    assert call(api, f"Bearer {t}").status_code == 200
    world.client.post("/services/oauth2/revoke", data={"token": t})
    assert refused(call(api, f"Bearer {t}"))


def test_revocation_elsewhere_is_seen_within_a_second(world: World, api: TestClient,
                                                      clock: FixedClock) -> None:
    t = token(world)
    assert call(api, f"Bearer {t}").status_code == 200
    # Another replica revokes it: straight in the store, this process's cache untouched.
    from localforce.security.tokens import digest
    world.services.oauth.tokens.revoke(digest(t), int(clock()))
    clock.advance(1)
    assert refused(call(api, f"Bearer {t}"))


def test_idle_timeout_is_the_apps_session_timeout(world: World, api: TestClient,
                                                  clock: FixedClock) -> None:
    t = token(world)
    clock.advance(3600)
    assert call(api, f"Bearer {t}").status_code == 200  # use restarts the idle clock
    clock.advance(7199)
    assert call(api, f"Bearer {t}").status_code == 200
    clock.advance(7200)
    assert refused(call(api, f"Bearer {t}"))


def test_shorter_app_session_timeout(world: World, api: TestClient, clock: FixedClock) -> None:
    world.save_app(session_timeout_minutes=15)
    t = token(world)
    clock.advance(15 * 60)
    assert refused(call(api, f"Bearer {t}"))


def test_token_without_api_scope_is_refused(world: World, api: TestClient) -> None:
    assert refused(call(api, f"Bearer {token(world, 'id')}"))


def test_deactivated_user_is_refused(world: World, api: TestClient, clock: FixedClock) -> None:
    t = token(world)
    world.services.directory.store.save_user(replace(world.user, active=False))
    clock.advance(1)
    assert refused(call(api, f"Bearer {t}"))
