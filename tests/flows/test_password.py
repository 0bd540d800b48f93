"""Username-password flow (RFC 6749 §4.3; salesforce-wire.md §2.6) through the ASGI app."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from joserfc import jwt
from tests.conftest import make_settings
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.domain import ids
from localforce.domain.models import ConnectedApp, IpRange
from localforce.oauth.issuing import signature
from localforce.settings import Settings

ACCESS_TOKEN = re.compile(r"^00D\w{12}![.\w]+$")
AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(home, lockout_attempts=3)


def login(world: World, **overrides: str):  # type: ignore[no-untyped-def]
    form = {"grant_type": "password", "client_id": KEY, "client_secret": SECRET,
            "username": "admin@acme.test", "password": PASSWORD + SECURITY_TOKEN, "scope": "api id"}
    form.update(overrides)
    return world.token(**{k: v for k, v in form.items() if v is not None})


def test_password_grant_returns_salesforce_fields_exactly(world: World) -> None:
    response = login(world)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    assert ACCESS_TOKEN.match(body["access_token"])
    issued_at = "1790000000000"
    assert body == {
        "access_token": body["access_token"],
        "signature": signature(world.identity_url(), issued_at, SECRET),
        "scope": "api id",
        "instance_url": "http://testserver",
        "id": world.identity_url(),
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
    assert list(body) == ["access_token", "signature", "scope", "instance_url", "id",
                          "token_type", "issued_at"]
    assert world.history()[-1]["status"] == "Success"
    assert world.history()[-1]["login_type"] == "Remote Access 2.0"
    assert world.history()[-1]["application"] == "Acme Integration"


def test_no_scope_grants_the_apps_scopes_and_openid_adds_an_id_token(world: World) -> None:
    body = login(world, scope=None).json()
    assert body["scope"] == "api refresh_token openid id web"
    assert "refresh_token" not in body  # never for this flow
    claims = jwt.decode(body["id_token"], _jwk(world)).claims
    assert claims["aud"] == KEY and claims["sub"] == world.identity_url()
    assert claims["iss"] == "http://testserver"


def _jwk(world: World):  # type: ignore[no-untyped-def]
    from joserfc.jwk import KeySet
    return KeySet.import_key_set(world.client.get("/id/keys").json())


def test_basic_client_authentication_is_accepted(world: World) -> None:
    response = world.client.post("/services/oauth2/token", auth=(KEY, SECRET), data={
        "grant_type": "password", "username": "admin@acme.test",
        "password": PASSWORD + SECURITY_TOKEN})
    assert response.status_code == 200


@pytest.mark.parametrize("password", [PASSWORD, "wrong" + SECURITY_TOKEN, PASSWORD + "WRONG1",
                                      ""])
def test_bad_credentials_are_authentication_failure(world: World, password: str) -> None:
    response = login(world, password=password)
    assert response.status_code == 400
    assert response.json() == AUTH_FAILURE
    assert "no-store" in response.headers["cache-control"]


def test_unknown_user_is_authentication_failure_and_recorded(world: World) -> None:
    response = login(world, username="nobody@acme.test")
    assert (response.status_code, response.json()) == (400, AUTH_FAILURE)
    row = world.history()[-1]
    assert (row["username"], row["status"], row["user_id"]) == (
        "nobody@acme.test", "Invalid Password", None)


def test_every_failure_counts_and_the_user_locks_out(world: World) -> None:
    for _ in range(3):
        assert login(world, password="bad").status_code == 400
    assert world.services.directory.store.get_user(world.user.id).failed_logins == 3
    # Locked: even the right password is refused.
    assert login(world).json() == AUTH_FAILURE
    assert world.history()[-1]["status"] == "Password Lockout"


def test_success_resets_the_failure_count(world: World) -> None:
    login(world, password="bad")
    assert login(world).status_code == 200
    assert world.services.directory.store.get_user(world.user.id).failed_logins == 0


def test_refused_while_the_org_blocks_the_flow(world: World) -> None:
    world.set_org(username_password_flow=False)
    response = login(world)
    assert (response.status_code, response.json()) == (400, AUTH_FAILURE)
    assert world.history()[-1]["status"] == "Username-Password Flow Disabled"


def test_a_new_org_blocks_the_flow_by_default(world: World) -> None:
    """RFC 9700 §2.4: the password grant is off unless the org turns it on (as in
    Salesforce orgs created since Summer '23)."""
    directory = world.services.directory
    fresh = directory.create_org("Fresh")
    directory.create_user(fresh.id, "fay@fresh.test", PASSWORD, "System Administrator",
                          security_token=SECURITY_TOKEN)
    directory.create_app(ConnectedApp(id=ids.new_id("0H4"), org_id=fresh.id, name="Fresh App",
                                      consumer_key="3MVG9fresh", scopes=("api",)), "fresh-secret")
    response = login(world, client_id="3MVG9fresh", client_secret="fresh-secret",
                     username="fay@fresh.test", scope=None)
    assert (response.status_code, response.json()) == (400, AUTH_FAILURE)
    assert world.history()[-1]["status"] == "Username-Password Flow Disabled"


def test_wrong_client_secret(world: World) -> None:
    response = login(world, client_secret="guess")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client",
                               "error_description": "invalid client credentials"}


def test_missing_client_secret(world: World) -> None:
    response = login(world, client_secret=None)
    assert response.json() == {"error": "invalid_client",
                               "error_description": "invalid client credentials"}


def test_unknown_client_id(world: World) -> None:
    response = login(world, client_id="3MVG9nope")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client_id",
                               "error_description": "client identifier invalid"}


def test_unregistered_scope_is_refused(world: World) -> None:
    response = login(world, scope="api full")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "requested scope is invalid, unknown, or malformed"}


def test_inactive_user(world: World) -> None:
    world.services.directory.store.save_user(replace(world.user, active=False))
    response = login(world)
    assert response.json() == {"error": "inactive_user", "error_description": "user is inactive"}
    assert world.history()[-1]["status"] == "User is inactive"


def test_profile_login_ip_ranges_are_enforced(world: World) -> None:
    store = world.services.directory.store
    profile = store.get_profile(world.user.profile_id)
    store.save_profile(replace(profile, login_ip_ranges=(IpRange("10.0.0.1", "10.0.0.9"),)))
    response = login(world)
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "ip restricted or invalid login hours"}
    assert world.history()[-1]["status"] == "Restricted IP"


def test_a_user_of_another_org_cannot_use_this_orgs_app(world: World) -> None:
    directory = world.services.directory
    other = directory.create_org("Other", username_password_flow=True)
    directory.create_user(other.id, "eve@other.test", PASSWORD, "System Administrator",
                          security_token=SECURITY_TOKEN)
    response = login(world, username="eve@other.test")
    assert (response.status_code, response.json()) == (400, AUTH_FAILURE)
