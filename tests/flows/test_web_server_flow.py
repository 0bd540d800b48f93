"""Web server flow end to end through the ASGI app: authorize, log in, consent, code, token.

RFC 6749 §4.1 + RFC 7636, as Salesforce speaks it (salesforce-wire.md §2.1): the redirect
carries ``code``, ``state`` and RFC 9207's ``iss``; the token response is Salesforce's.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from tests.flows.browser_forms import AUTHORIZE, code_from, log_in, submit
from tests.flows.browser_world import CALLBACK, KEY, PASSWORD, SECRET, World, world_fixture  # noqa: F401

from localforce.oauth import pkce
from localforce.oauth.ports import OAUTH_LOGIN

ISS = "iss=http%3A%2F%2Ftestserver"


def verifier() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(128)).rstrip(b"=").decode()


def authorize(world: World, **params: str) -> Any:
    query = {"response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK,
             "state": "xyz", "scope": "api refresh_token", **params}
    return world.client.get(AUTHORIZE, params={k: v for k, v in query.items() if v is not None},
                            follow_redirects=False)


def through_consent(world: World, **params: str) -> Any:
    """Authorize, log in, allow: the redirect to the client."""
    page = log_in(world.client, authorize(world, **params), world.user.username, PASSWORD)
    assert page.status_code == 200 and "Allow access?" in page.text
    return submit(world.client, page.text, button=("_action", "allow"))


def exchange(world: World, code: str, **extra: str) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "client_id": KEY,
            "client_secret": SECRET, "redirect_uri": CALLBACK, **extra}
    return world.token(**{k: v for k, v in form.items() if v is not None})


def test_web_server_flow_with_pkce_end_to_end(world: World) -> None:
    v = verifier()
    page = authorize(world, code_challenge=pkce.s256(v))
    assert page.status_code == 200
    assert 'name="username"' in page.text and "Acme Web" in page.text

    redirect = through_consent(world, code_challenge=pkce.s256(v))
    assert redirect.status_code == 303
    code = code_from(redirect.headers["location"])
    assert redirect.headers["location"] == f"{CALLBACK}?code={code}&state=xyz&{ISS}"

    response = exchange(world, code, code_verifier=v)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "refresh_token", "signature", "scope", "instance_url",
                          "id", "token_type", "issued_at"]
    assert body["scope"] == "api refresh_token"
    assert body["instance_url"] == "http://testserver"
    assert body["id"] == world.identity_url()
    assert response.headers["cache-control"].startswith("no-cache")

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = world.client.get("/services/oauth2/userinfo", headers=bearer)
    assert me.status_code == 200 and me.json()["preferred_username"] == world.user.username
    query = world.client.get("/services/data/v60.0/query",
                             params={"q": "SELECT Id, Name FROM Account"}, headers=bearer)
    assert (query.status_code, query.json()) == (
        200, {"totalSize": 0, "done": True, "records": []})


def test_the_code_is_shaped_like_salesforces(world: World) -> None:
    code = code_from(through_consent(world).headers["location"])
    assert code.startswith("aPrx") and len(code) >= 60


def test_consent_is_remembered_for_the_same_scopes(world: World) -> None:
    through_consent(world)
    again = authorize(world)
    assert again.status_code == 302
    code = code_from(again.headers["location"])
    assert again.headers["location"] == f"{CALLBACK}?code={code}&state=xyz&{ISS}"


def test_the_consent_page_names_the_app_each_scope_and_how_to_revoke(world: World) -> None:
    """ASVS 10.7.1-10.7.3: the user sees who asks for what, and where to take it back."""
    page = log_in(world.client, authorize(world, scope="api refresh_token openid"),
                  world.user.username, PASSWORD)
    assert page.status_code == 200 and "Allow access?" in page.text
    assert "<strong>Acme Web</strong> is asking to:" in page.text
    for label in ("Manage user data via APIs (api)", "Perform requests at any time "
                  "(refresh_token)", "Access unique user identifiers (openid)"):
        assert f"<li>{label}</li>" in page.text
    assert f"Logged in as {world.user.username}." in page.text
    assert 'href="/settings/connected-apps"' in page.text


def test_more_scopes_than_consented_ask_again(world: World) -> None:
    through_consent(world)
    again = authorize(world, scope="api refresh_token web")
    assert again.status_code == 200 and "Allow access?" in again.text


def test_prompt_consent_forces_the_consent_page(world: World) -> None:
    through_consent(world)
    again = authorize(world, prompt="consent")
    assert again.status_code == 200 and "Allow access?" in again.text


def test_prompt_login_forces_the_login_page_even_with_a_session(world: World) -> None:
    through_consent(world)
    again = authorize(world, prompt="login")
    assert again.status_code == 200 and 'name="password"' in again.text
    after = log_in(world.client, again, world.user.username, PASSWORD)
    assert after.status_code == 302  # consent remembered; prompt=login satisfied once
    assert after.headers["location"].startswith(f"{CALLBACK}?code=")


def test_deny_redirects_access_denied(world: World) -> None:
    page = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    denied = submit(world.client, page.text, button=("_action", "deny"))
    assert denied.status_code == 303
    assert denied.headers["location"] == (
        f"{CALLBACK}?error=access_denied&error_description=end-user+denied+authorization"
        f"&state=xyz&{ISS}")


def test_without_state_none_comes_back(world: World) -> None:
    redirect = through_consent(world, state=None)  # type: ignore[arg-type]
    code = code_from(redirect.headers["location"])
    assert redirect.headers["location"] == f"{CALLBACK}?code={code}&{ISS}"


def test_state_round_trips_exactly(world: World) -> None:
    state = "a b&c=d/é?#"
    redirect = through_consent(world, state=state)
    code = code_from(redirect.headers["location"])
    assert redirect.headers["location"] == (
        f"{CALLBACK}?code={code}&state=a+b%26c%3Dd%2F%C3%A9%3F%23&{ISS}")


def test_a_login_hint_prefills_the_username(world: World) -> None:
    page = authorize(world, login_hint="someone@acme.test")
    assert 'value="someone@acme.test"' in page.text


def test_a_bad_password_gets_a_generic_message_and_is_recorded(world: World) -> None:
    page = log_in(world.client, authorize(world), world.user.username, "wrong")
    assert page.status_code == 200
    assert "Please check your username and password." in page.text
    unknown = log_in(world.client, authorize(world), "nobody@acme.test", "wrong")
    assert unknown.text.replace("nobody@acme.test", world.user.username) == page.text.replace(
        _csrf(page.text), _csrf(unknown.text))
    rows = world.history()
    assert [(r["username"], r["status"], r["login_type"], r["application"], r["source_ip"])
            for r in rows] == [
        (world.user.username, "Invalid Password", OAUTH_LOGIN, "Acme Web", "127.0.0.1"),
        ("nobody@acme.test", "Invalid Password", OAUTH_LOGIN, "Acme Web", "127.0.0.1")]


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def test_a_good_login_is_recorded_with_app_flow_and_ip(world: World) -> None:
    through_consent(world)
    (row,) = world.history()
    assert (row["username"], row["status"], row["login_type"], row["application"],
            row["source_ip"], row["login_url"]) == (
        world.user.username, "Success", OAUTH_LOGIN, "Acme Web", "127.0.0.1",
        "http://testserver/services/oauth2/authorize?response_type=code")


def test_sf_cli_login_web_with_platform_cli(world: World) -> None:
    """``sf org login web`` (clients.md §3): PlatformCLI, prompt=login, PKCE without a method,
    a 171-character verifier, no secret, callback on localhost:1717."""
    v = verifier()
    assert len(v) == 171
    callback = "http://localhost:1717/OauthRedirect"
    params = {"response_type": "code", "client_id": "PlatformCLI", "redirect_uri": callback,
              "state": "0123456789ab", "prompt": "login", "scope": "refresh_token api web",
              "code_challenge": pkce.s256(v)}
    page = world.client.get(AUTHORIZE, params=params, follow_redirects=False)
    consent = log_in(world.client, page, world.user.username, PASSWORD)
    redirect = submit(world.client, consent.text, button=("_action", "allow"))
    code = code_from(redirect.headers["location"])
    assert redirect.headers["location"] == (
        f"{callback}?code={code}&state=0123456789ab&{ISS}")
    response = world.token(grant_type="authorization_code", code=code, client_id="PlatformCLI",
                           redirect_uri=callback, code_verifier=v)
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "refresh_token api web" and "refresh_token" in body
    assert "signature" not in body  # a public client has no secret to sign with


def test_the_session_cookie_is_httponly_and_lax(world: World) -> None:
    page = authorize(world)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("lf_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here


@pytest.mark.parametrize("scope", ["api", "web"])
def test_refresh_token_only_with_the_refresh_token_scope(world: World, scope: str) -> None:
    v = verifier()
    code = code_from(through_consent(world, scope=scope,
                                     code_challenge=pkce.s256(v)).headers["location"])
    body = exchange(world, code, code_verifier=v).json()
    assert "refresh_token" not in body and body["scope"] == scope


def test_openid_scope_adds_an_id_token_with_the_nonce(world: World) -> None:
    import jwt

    code = code_from(through_consent(world, scope="openid api", nonce="n-0S6").headers[
        "location"])
    body = exchange(world, code).json()
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "n-0S6" and claims["aud"] == KEY
