"""User-agent flow (salesforce-wire.md §2.2; RFC 6749 §4.2): tokens in the fragment, only for
apps that enable it, a refresh token only with the ``refresh_token`` scope."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.flows.browser_forms import AUTHORIZE, log_in, submit
from tests.flows.browser_world import CALLBACK, KEY, PASSWORD, World, world_fixture  # noqa: F401

ISS = "iss=http%3A%2F%2Ftestserver"


def authorize(world: World, **params: str) -> Any:
    query = {"response_type": "token", "client_id": KEY, "redirect_uri": CALLBACK,
             "state": "mystate", **params}
    return world.client.get(AUTHORIZE, params=query, follow_redirects=False)


def approve(world: World, **params: str) -> Any:
    page = log_in(world.client, authorize(world, **params), world.user.username, PASSWORD)
    return submit(world.client, page.text, button=("_action", "allow"))


def fragment(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK and not parts.query
    return dict(parse_qsl(parts.fragment))


def test_off_by_default(world: World) -> None:
    response = authorize(world)
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{CALLBACK}#error=unsupported_response_type&error_description=response+type+not"
        f"+supported&state=mystate&{ISS}")


def test_tokens_in_the_fragment_with_salesforces_fields(world: World) -> None:
    world.save_app(enable_implicit=True)
    redirect = approve(world, scope="api refresh_token")
    assert redirect.status_code == 303
    fields = fragment(redirect.headers["location"])
    assert list(fields) == ["access_token", "refresh_token", "signature", "scope",
                            "instance_url", "id", "token_type", "issued_at", "state", "iss"]
    assert fields["scope"] == "api refresh_token" and fields["state"] == "mystate"
    assert fields["instance_url"] == "http://testserver" and fields["token_type"] == "Bearer"
    assert fields["id"] == world.identity_url() and fields["iss"] == "http://testserver"
    me = world.client.get("/services/oauth2/userinfo",
                          headers={"Authorization": f"Bearer {fields['access_token']}"})
    assert me.status_code == 200


def test_no_refresh_token_without_the_scope(world: World) -> None:
    world.save_app(enable_implicit=True)
    fields = fragment(approve(world, scope="api").headers["location"])
    assert "refresh_token" not in fields and fields["scope"] == "api"


def test_token_id_token_needs_a_nonce(world: World) -> None:
    world.save_app(enable_implicit=True)
    response = authorize(world, response_type="token id_token", scope="openid api")
    assert response.headers["location"] == (
        f"{CALLBACK}#error=invalid_request&error_description=nonce+is+required+for+the+token"
        f"+id_token+response+type&state=mystate&{ISS}")


def test_token_id_token_returns_an_id_token_with_the_nonce(world: World) -> None:
    import jwt

    world.save_app(enable_implicit=True)
    fields = fragment(approve(world, response_type="id_token token", scope="openid api",
                              nonce="awesome").headers["location"])
    claims = jwt.decode(fields["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "awesome" and claims["aud"] == KEY


def test_deny_goes_in_the_fragment(world: World) -> None:
    world.save_app(enable_implicit=True)
    page = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    denied = submit(world.client, page.text, button=("_action", "deny"))
    assert denied.headers["location"] == (
        f"{CALLBACK}#error=access_denied&error_description=end-user+denied+authorization"
        f"&state=mystate&{ISS}")
