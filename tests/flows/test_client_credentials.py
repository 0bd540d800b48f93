"""Client credentials flow (RFC 6749 §4.4; salesforce-wire.md §2.7) through the ASGI app."""

from __future__ import annotations

from tests.flows.conftest import KEY, SECRET, World

from localforce.oauth.issuing import signature

NO_USER = {"error": "invalid_grant", "error_description": "no client credentials user enabled"}


def post(world: World, auth: tuple[str, str] | None = (KEY, SECRET), **form: str):  # type: ignore[no-untyped-def]
    return world.client.post("/services/oauth2/token", auth=auth,
                             data={"grant_type": "client_credentials", **form})


def test_runs_as_the_run_as_user_with_the_apps_scopes_minus_refresh_and_web(world: World) -> None:
    response = post(world)
    assert response.status_code == 200
    body = response.json()
    issued_at = "1790000000000"
    assert body == {
        "access_token": body["access_token"],
        "signature": signature(world.identity_url(), issued_at, SECRET),
        "scope": "api openid id",  # openid granted, yet no id_token (salesforce-wire.md §2.7)
        "instance_url": "http://testserver",
        "id": world.identity_url(),
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
    assert world.history()[-1]["status"] == "Success"


def test_secret_in_the_body_works_too(world: World) -> None:
    response = post(world, auth=None, client_id=KEY, client_secret=SECRET, scope="api")
    assert response.status_code == 200
    assert response.json()["scope"] == "api"
    assert "id_token" not in response.json()


def test_wrong_secret(world: World) -> None:
    response = post(world, auth=(KEY, "guess"))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client",
                               "error_description": "invalid client credentials"}


def test_missing_secret(world: World) -> None:
    response = post(world, auth=None, client_id=KEY)
    assert response.json()["error"] == "invalid_client"


def test_refused_when_the_app_does_not_enable_it(world: World) -> None:
    world.save_app(enable_client_credentials=False)
    response = post(world)
    assert (response.status_code, response.json()) == (400, NO_USER)


def test_refused_without_a_run_as_user(world: World) -> None:
    world.save_app(run_as_user_id=None)
    assert post(world).json() == NO_USER


def test_excluded_or_unregistered_scopes_are_refused(world: World) -> None:
    for scope in ("refresh_token", "web", "full"):
        response = post(world, scope=scope)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"


def test_never_a_refresh_token(world: World) -> None:
    assert "refresh_token" not in post(world).json()
