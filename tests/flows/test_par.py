"""Pushed authorization requests (RFC 9126) through the ASGI app: push, then authorize with
the ``request_uri``; its replay, expiry, theft by another client; the per-app "require PAR";
the wire errors of ``/services/oauth2/par``."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import FixedClock
from tests.flows.browser_forms import AUTHORIZE, code_from, log_in, submit
from tests.flows.browser_world import CALLBACK, KEY, PASSWORD, SECRET, World, world_fixture  # noqa: F401

from localforce.domain import ids
from localforce.domain.models import ConnectedApp
from localforce.oauth import pkce

PAR = "/services/oauth2/par"
URN = re.compile(r"urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}")
VERIFIER = "v" * 64
NO_STORE = "no-cache,must-revalidate,max-age=0,no-store,private"


def push(world: World, *, basic: bool = False, **params: str | None) -> Any:
    form = {"response_type": "code", "client_id": KEY, "client_secret": SECRET,
            "redirect_uri": CALLBACK, "state": "xyz", "scope": "api refresh_token",
            "code_challenge": pkce.s256(VERIFIER), "code_challenge_method": "S256", **params}
    headers = {}
    if basic:
        form.pop("client_id"), form.pop("client_secret")
        token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return world.client.post(PAR, data={k: v for k, v in form.items() if v is not None},
                             headers=headers)


def request_uri(world: World, **params: str | None) -> str:
    response = push(world, **params)
    assert response.status_code == 201, response.text
    return str(response.json()["request_uri"])


def authorize(world: World, uri: str, **extra: str) -> Any:
    return world.client.get(AUTHORIZE, params={"client_id": KEY, "request_uri": uri, **extra},
                            follow_redirects=False)


def through_consent(world: World, page: Any) -> Any:
    page = log_in(world.client, page, world.user.username, PASSWORD)
    assert page.status_code == 200 and "Allow access?" in page.text, page.text
    return submit(world.client, page.text, button=("_action", "allow"))


def exchange(world: World, code: str) -> Any:
    return world.token(grant_type="authorization_code", code=code, client_id=KEY,
                       client_secret=SECRET, redirect_uri=CALLBACK, code_verifier=VERIFIER)


def test_push_answers_201_with_a_request_uri_and_no_store(world: World) -> None:
    response = push(world)
    assert response.status_code == 201
    assert response.headers["cache-control"] == NO_STORE
    body = response.json()
    assert set(body) == {"request_uri", "expires_in"} and body["expires_in"] == 60
    assert URN.fullmatch(body["request_uri"])


def test_http_basic_client_authentication_works_too(world: World) -> None:
    assert push(world, basic=True).status_code == 201


def test_the_web_server_flow_through_a_pushed_request(world: World) -> None:
    uri = request_uri(world)
    # RFC 9126 §4: parameters beside client_id and request_uri are ignored.
    page = authorize(world, uri, scope="full", state="evil", redirect_uri="https://evil.test/")
    assert page.status_code == 200 and 'name="username"' in page.text
    redirect = through_consent(world, page)
    location = redirect.headers["location"]
    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["state"] == ["xyz"]
    response = exchange(world, code_from(location))
    assert response.status_code == 200
    assert response.json()["scope"] == "api refresh_token"


def _error_page(response: Any, error: str) -> None:
    assert response.status_code == 400
    assert "location" not in response.headers
    assert error in response.text


def test_a_request_uri_is_single_use(world: World) -> None:
    uri = request_uri(world)
    assert authorize(world, uri).status_code == 200
    _error_page(authorize(world, uri), "invalid_request_uri")


def test_an_expired_request_uri_is_refused(world: World, clock: FixedClock) -> None:
    uri = request_uri(world)
    clock.advance(60)
    _error_page(authorize(world, uri), "invalid_request_uri")


def test_an_unknown_request_uri_is_refused(world: World) -> None:
    _error_page(authorize(world, "urn:ietf:params:oauth:request_uri:nope"),
                "invalid_request_uri")
    _error_page(authorize(world, "https://elsewhere.test/r"), "invalid_request_uri")


def test_another_clients_request_uri_is_refused_and_not_burnt(world: World) -> None:
    other = world.services.directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=world.org.id, name="Other", consumer_key="3MVG9other",
        callback_urls=(CALLBACK,), scopes=("api",)), "other-secret")
    uri = request_uri(world)
    stolen = world.client.get(AUTHORIZE, params={"client_id": other.consumer_key,
                                                 "request_uri": uri}, follow_redirects=False)
    _error_page(stolen, "invalid_request_uri")
    assert authorize(world, uri).status_code == 200  # its own client still may


def test_a_require_par_app_refuses_a_plain_authorize_request(world: World) -> None:
    world.save_app(require_par=True)
    response = world.client.get(AUTHORIZE, params={
        "response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK, "state": "s1",
        "code_challenge": pkce.s256(VERIFIER), "code_challenge_method": "S256"},
        follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == (
        f"{CALLBACK}?error=invalid_request&error_description=pushed+authorization+request"
        "+required&state=s1&iss=http%3A%2F%2Ftestserver")


def test_a_require_par_app_completes_the_flow_through_a_pushed_request(world: World) -> None:
    world.save_app(require_par=True)
    redirect = through_consent(world, authorize(world, request_uri(world)))
    response = exchange(world, code_from(redirect.headers["location"]))
    assert response.status_code == 200


def test_apps_without_the_setting_still_take_plain_requests(world: World) -> None:
    response = world.client.get(AUTHORIZE, params={
        "response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK},
        follow_redirects=False)
    assert response.status_code == 200 and 'name="username"' in response.text


# -- the endpoint's errors (RFC 9126 §2.3, RFC 6749 §5.2) ----------------------------------


def _error(response: Any, status: int, body: dict[str, str]) -> None:
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["cache-control"] == NO_STORE


def test_a_wrong_secret_is_invalid_client_401(world: World) -> None:
    _error(push(world, client_secret="wrong"), 401,
           {"error": "invalid_client", "error_description": "invalid client credentials"})


def test_a_missing_secret_of_a_confidential_app_is_invalid_client_401(world: World) -> None:
    _error(push(world, client_secret=None), 401,
           {"error": "invalid_client", "error_description": "invalid client credentials"})


def test_an_unknown_client_is_invalid_client_401(world: World) -> None:
    _error(push(world, client_id="3MVG9nobody"), 401,
           {"error": "invalid_client", "error_description": "client identifier invalid"})


def test_a_request_uri_in_the_pushed_body_is_refused(world: World) -> None:
    _error(push(world, request_uri="urn:ietf:params:oauth:request_uri:x"), 400,
           {"error": "invalid_request",
            "error_description": "request_uri is not allowed in a pushed authorization request"})


def test_an_unregistered_redirect_uri_is_invalid_request(world: World) -> None:
    _error(push(world, redirect_uri="https://evil.test/cb"), 400,
           {"error": "invalid_request",
            "error_description": "redirect_uri must match configuration"})


def test_an_unknown_scope_is_invalid_scope(world: World) -> None:
    _error(push(world, scope="api chatter_api_nope"), 400,
           {"error": "invalid_scope",
            "error_description": "requested scope is invalid, unknown, or malformed"})


def test_an_unsupported_response_type_is_refused(world: World) -> None:
    _error(push(world, response_type="token"), 400,
           {"error": "unsupported_response_type",
            "error_description": "response type not supported"})


def test_pkce_required_by_the_app_is_checked_at_push(world: World) -> None:
    world.save_app(require_pkce=True)
    _error(push(world, code_challenge=None, code_challenge_method=None), 400,
           {"error": "invalid_request", "error_description": "missing required code challenge"})


def test_discovery_advertises_the_endpoint_but_not_a_global_requirement(world: World) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    assert body["pushed_authorization_request_endpoint"] == "http://testserver" + PAR
    assert "require_pushed_authorization_requests" not in body
