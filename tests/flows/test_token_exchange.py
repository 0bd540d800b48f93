"""Token exchange (RFC 8693) through the ASGI app: an app with "allow token exchange" trades a
user's access token for one of another app of the org, with ``act`` recorded; every refusal
with its exact error JSON (RFC 8693 §2.2.2, RFC 6749 §5.2)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.domain import ids
from localforce.domain.models import ConnectedApp, PermittedUsers
from localforce.oauth.issuing import IssuePolicy

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
DOWN_KEY = "3MVG9acme.downstream"
DOWN_SECRET = "d0wn-secret"
NOW = 1_790_000_000
BAD_SUBJECT = {"error": "invalid_grant", "error_description": "invalid subject token"}


@pytest.fixture
def downstream(world: World) -> ConnectedApp:
    world.save_app(allow_token_exchange=True)
    return world.services.directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=world.org.id, name="Downstream", consumer_key=DOWN_KEY,
        callback_urls=("https://down.example.com/cb",), scopes=("api", "id", "chatter_api")),
        DOWN_SECRET)


def user_token(world: World, scope: str | None = None) -> str:
    form = {"grant_type": "password", "client_id": KEY, "client_secret": SECRET,
            "username": "admin@acme.test", "password": PASSWORD + SECURITY_TOKEN}
    if scope:
        form["scope"] = scope
    response = world.client.post("/services/oauth2/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def exchange(world: World, subject: str, auth: tuple[str, str] = (KEY, SECRET),
             **extra: str) -> Any:
    form = {"grant_type": GRANT, "subject_token": subject, "subject_token_type": ACCESS,
            "audience": DOWN_KEY, **extra}
    return world.client.post("/services/oauth2/token", data=form, auth=auth)


def test_an_allowed_app_exchanges_a_users_token_for_the_audiences(
        world: World, downstream: ConnectedApp) -> None:
    response = exchange(world, user_token(world), scope="api")
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    token = body.pop("access_token")
    assert token.startswith(ids.to15(world.org.id) + "!")
    assert body == {"scope": "api", "instance_url": "http://testserver",
                    "id": world.identity_url(), "token_type": "Bearer",
                    "issued_token_type": ACCESS}
    # The token is the audience's: its introspection shows the actor; the requester's is not.
    seen = world.client.post("/services/oauth2/introspect", auth=(DOWN_KEY, DOWN_SECRET),
                             data={"token": token})
    assert seen.json() == {
        "active": True, "scope": "api", "client_id": DOWN_KEY, "username": "admin@acme.test",
        "sub": world.identity_url(), "token_type": "access_token", "exp": NOW + 7200,
        "iat": NOW, "nbf": NOW, "act": {"client_id": KEY}}
    mine = world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                             data={"token": token})
    assert mine.json() == {"active": False}
    record = world.services.oauth.tokens.find(_digest(token))
    assert record is not None
    assert (record.app_id, record.act, record.flow) == (downstream.id, KEY, "token_exchange")


def test_without_scope_the_audiences_scopes_the_subject_allows(
        world: World, downstream: ConnectedApp) -> None:
    response = exchange(world, user_token(world))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "api id"  # not chatter_api: the user's token lacks it


def test_the_login_is_recorded_for_the_audience_app(world: World,
                                                     downstream: ConnectedApp) -> None:
    subject = user_token(world)
    assert exchange(world, subject).status_code == 200
    last = world.history()[-1]
    assert (last["status"], last["app_id"], last["user_id"]) == (
        "Success", downstream.id, world.user.id)


def _digest(token: str) -> str:
    from localforce.security.tokens import digest
    return digest(token)


def test_an_app_not_allowed_is_unauthorized_client(world: World,
                                                     downstream: ConnectedApp) -> None:
    world.save_app(allow_token_exchange=False)
    response = exchange(world, user_token(world))
    assert (response.status_code, response.json()) == (400, {
        "error": "unauthorized_client",
        "error_description": "the client is not authorized to use this flow"})


def test_a_revoked_subject_token_is_invalid_grant(world: World,
                                                  downstream: ConnectedApp) -> None:
    subject = user_token(world)
    assert world.client.post("/services/oauth2/revoke",
                             data={"token": subject}).status_code == 200
    response = exchange(world, subject)
    assert (response.status_code, response.json()) == (400, BAD_SUBJECT)


def test_unknown_or_another_apps_subject_token_is_invalid_grant(
        world: World, downstream: ConnectedApp) -> None:
    assert (exchange(world, "00D000000000001!AQnope").json()) == BAD_SUBJECT
    theirs = world.services.oauth.issuer.issue(
        downstream, world.user, ("api",), IssuePolicy("password")).access_token
    assert exchange(world, theirs).json() == BAD_SUBJECT


def test_a_subject_token_of_another_org_is_invalid_grant(world: World,
                                                         downstream: ConnectedApp) -> None:
    directory = world.services.directory
    other = directory.create_org("Globex", my_domain="globex")
    stranger, _ = directory.create_user(other.id, "x@globex.test", PASSWORD,
                                        "System Administrator")
    token = world.services.oauth.issuer.issue(world.app, stranger, ("api",),
                                              IssuePolicy("password")).access_token
    response = exchange(world, token)
    assert (response.status_code, response.json()) == (400, BAD_SUBJECT)


@pytest.mark.parametrize("scope", ["web", "api web", "chatter_api", "refresh_token"])
def test_a_scope_beyond_the_audience_or_the_subject_is_invalid_scope(
        world: World, downstream: ConnectedApp, scope: str) -> None:
    response = exchange(world, user_token(world), scope=scope)
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_scope",
        "error_description": "requested scope is invalid, unknown, or malformed"})


@pytest.mark.parametrize("audience", ["3MVG9unknown", "PlatformCLI"])
def test_an_unknown_audience_is_invalid_target(world: World, downstream: ConnectedApp,
                                                audience: str) -> None:
    response = exchange(world, user_token(world), audience=audience)
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_target",
        "error_description": "the requested audience is invalid or unknown"})


def test_an_audience_of_another_org_is_invalid_target(world: World,
                                                      downstream: ConnectedApp) -> None:
    directory = world.services.directory
    other = directory.create_org("Globex", my_domain="globex")
    directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=other.id, name="Theirs", consumer_key="3MVG9globex",
        callback_urls=("https://g.example.com/cb",), scopes=("api",)), "x")
    response = exchange(world, user_token(world), audience="3MVG9globex")
    assert response.json()["error"] == "invalid_target"


@pytest.mark.parametrize(("change", "description"), [
    ({"subject_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
     "subject_token of type " + ACCESS + " required"),
    ({"subject_token": ""}, "subject_token of type " + ACCESS + " required"),
    ({"audience": ""}, "audience required"),
    ({"requested_token_type": "urn:ietf:params:oauth:token-type:id_token"},
     "unsupported requested_token_type"),
    ({"actor_token": "x", "actor_token_type": ACCESS}, "actor_token is not supported"),
])
def test_malformed_requests_are_invalid_request(world: World, downstream: ConnectedApp,
                                                change: dict[str, str],
                                                description: str) -> None:
    form = {"subject_token": user_token(world), **change}
    response = exchange(world, form.pop("subject_token"), **form)
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_request", "error_description": description})


def test_the_user_must_be_allowed_the_audience_app(world: World,
                                                   downstream: ConnectedApp) -> None:
    from dataclasses import replace
    world.services.directory.store.save_app(replace(
        downstream, permitted_users=PermittedUsers.ADMIN_APPROVED))
    response = exchange(world, user_token(world))
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_app_access",
        "error_description": "user is not admin approved to access this app"})


def test_the_requester_must_authenticate(world: World, downstream: ConnectedApp) -> None:
    response = exchange(world, user_token(world), auth=(KEY, "wrong"))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_client")


def test_discovery_lists_the_grant(world: World) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    assert GRANT in body["grant_types_supported"]
