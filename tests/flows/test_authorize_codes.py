"""Authorization codes at the token endpoint: each attack is tried and refused.

Single use (a replay revokes everything the code produced), 15 minutes, bound to the app, the
redirect URI and the PKCE challenge (RFC 6749 §4.1.2, §4.1.3; RFC 7636 §4.6; RFC 9700 §2.1.1).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import pytest
from tests.conftest import FixedClock
from tests.flows.browser_forms import AUTHORIZE, code_from, forms, log_in, submit
from tests.flows.browser_world import CALLBACK, KEY, PASSWORD, SECRET, World, world_fixture  # noqa: F401

from localforce.domain import ids
from localforce.domain.models import ConnectedApp
from localforce.oauth import pkce

EXPIRED = {"error": "invalid_grant", "error_description": "expired authorization code"}
INVALID = {"error": "invalid_grant", "error_description": "invalid authorization code"}
BAD_VERIFIER = {"error": "invalid_grant", "error_description": "invalid code verifier"}


def verifier() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()


def get_code(world: World, challenge: str | None = None) -> str:
    params = {"response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK,
              "scope": "api refresh_token"}
    if challenge:
        params["code_challenge"] = challenge
    page = world.client.get(AUTHORIZE, params=params, follow_redirects=False)
    if page.status_code == 200 and 'name="password"' in page.text:
        page = log_in(world.client, page, world.user.username, PASSWORD)
    if page.status_code == 200:
        page = submit(world.client, page.text, button=("_action", "allow"))
    return code_from(page.headers["location"])


def exchange(world: World, code: str, **extra: str | None) -> Any:
    form = {"grant_type": "authorization_code", "code": code, "client_id": KEY,
            "client_secret": SECRET, "redirect_uri": CALLBACK, **extra}
    return world.token(**{k: v for k, v in form.items() if v is not None})


def userinfo(world: World, access_token: str) -> int:
    """The status of a data-API call with this token (401 INVALID_SESSION_ID once dead)."""
    return world.client.get("/services/data/v60.0/sobjects",
                            headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_a_replayed_code_fails_and_kills_the_tokens_it_produced(
        world: World, clock: FixedClock) -> None:
    code = get_code(world)
    first = exchange(world, code).json()
    assert userinfo(world, first["access_token"]) == 200

    again = exchange(world, code)
    assert (again.status_code, again.json()) == (400, EXPIRED)
    clock.advance(2)  # past the per-process principal cache (revocations show within 1 s)
    assert userinfo(world, first["access_token"]) == 401
    refreshed = world.token(grant_type="refresh_token", refresh_token=first["refresh_token"],
                            client_id=KEY, client_secret=SECRET)
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


def test_an_expired_code_fails(world: World, clock: FixedClock) -> None:
    code = get_code(world)
    clock.advance(10 * 60)  # RFC 6749 §4.1.2: ten minutes at most
    response = exchange(world, code)
    assert (response.status_code, response.json()) == (400, EXPIRED)


def test_a_code_just_inside_its_lifetime_works(world: World, clock: FixedClock) -> None:
    code = get_code(world)
    clock.advance(10 * 60 - 1)
    assert exchange(world, code).status_code == 200


def test_an_unknown_code_fails(world: World) -> None:
    response = exchange(world, "aPrx" + "x" * 60)
    assert (response.status_code, response.json()) == (400, INVALID)


def test_another_apps_code_fails(world: World) -> None:
    other = world.services.directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=world.org.id, name="Other", consumer_key="3MVG9other",
        callback_urls=(CALLBACK,), scopes=("api",)), "other-secret")
    code = get_code(world)
    response = world.token(grant_type="authorization_code", code=code,
                           client_id=other.consumer_key, client_secret="other-secret",
                           redirect_uri=CALLBACK)
    assert (response.status_code, response.json()) == (400, INVALID)
    assert exchange(world, code).status_code == 200  # still good for its own app


def test_a_wrong_secret_fails_before_the_code_is_looked_at(world: World) -> None:
    code = get_code(world)
    response = exchange(world, code, client_secret="wrong")
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    assert exchange(world, code).status_code == 200


@pytest.mark.parametrize("redirect_uri", [None, f"{CALLBACK}/", "https://evil.test/cb"])
def test_a_different_redirect_uri_fails(world: World, redirect_uri: str | None) -> None:
    code = get_code(world)
    response = exchange(world, code, redirect_uri=redirect_uri)
    assert (response.status_code, response.json()) == (400, {
        "error": "redirect_uri_mismatch",
        "error_description": "redirect_uri must match configuration"})


def test_a_wrong_verifier_fails(world: World) -> None:
    code = get_code(world, pkce.s256(verifier()))
    response = exchange(world, code, code_verifier=verifier())
    assert (response.status_code, response.json()) == (400, BAD_VERIFIER)


def test_a_missing_verifier_fails(world: World) -> None:
    code = get_code(world, pkce.s256(verifier()))
    response = exchange(world, code)
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_grant", "error_description": "missing code verifier"})


def test_pkce_downgrade_is_refused(world: World) -> None:
    """A verifier for a code issued without a challenge (RFC 9700 §2.1.1)."""
    code = get_code(world)
    response = exchange(world, code, code_verifier=verifier())
    assert (response.status_code, response.json()) == (400, BAD_VERIFIER)


def test_the_right_verifier_works(world: World) -> None:
    v = verifier()
    code = get_code(world, pkce.s256(v))
    assert exchange(world, code, code_verifier=v).status_code == 200


def test_a_public_client_needs_no_secret_but_a_confidential_one_does(world: World) -> None:
    code = get_code(world)
    response = exchange(world, code, client_secret=None)
    assert response.json()["error"] == "invalid_client"
    world.save_app(require_secret_web_server=False)
    assert exchange(world, code, client_secret=None).status_code == 200


def test_a_deactivated_user_cannot_redeem(world: World) -> None:
    from dataclasses import replace

    code = get_code(world)
    world.services.directory.store.save_user(replace(world.user, active=False))
    response = exchange(world, code)
    assert (response.status_code, response.json()) == (400, {
        "error": "inactive_user", "error_description": "user is inactive"})


def test_revoking_consent_asks_again_and_kills_the_tokens(world: World) -> None:
    code = get_code(world)
    tokens = exchange(world, code).json()
    page = world.client.get("/settings/connected-apps")
    assert "Acme Web" in page.text
    revoked = submit(world.client, page.text)
    assert revoked.status_code == 303
    assert "Acme Web" not in world.client.get("/settings/connected-apps").text
    assert userinfo(world, tokens["access_token"]) == 401
    again = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK})
    assert again.status_code == 200 and "Allow access?" in again.text


def test_logout_ends_the_session(world: World) -> None:
    get_code(world)
    page = world.client.get("/logout")
    assert world.user.username in page.text
    out = submit(world.client, page.text)
    assert out.status_code == 200 and "You are logged out." in out.text
    again = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK})
    assert 'name="password"' in again.text


@pytest.mark.parametrize("param", ["post_logout_redirect_uri", "retURL", "startURL"])
def test_logout_never_redirects_anywhere(world: World, param: str) -> None:
    """No open redirector (RFC 9700 §2.1): the logout page takes no return URL at all."""
    get_code(world)
    evil = {param: "https://evil.test/phish"}
    page = world.client.get("/logout", params=evil, follow_redirects=False)
    assert page.status_code == 200 and "location" not in page.headers
    assert "evil.test" not in page.text
    (form,) = forms(page.text)
    out = world.client.post("/logout", params=evil, data={**form.fields, **evil},
                            follow_redirects=False)
    assert (out.status_code, "location" in out.headers) == (200, False)
    assert "You are logged out." in out.text and "evil.test" not in out.text


def test_a_cross_site_logout_cannot_end_the_session(world: World) -> None:
    """Forced logout (ASVS 10.6.2): a GET only shows the form, a POST needs the CSRF token."""
    get_code(world)
    assert world.client.get("/logout").status_code == 200
    forged = world.client.post("/logout", data={"csrf_token": "0" * 64},
                               follow_redirects=False)
    assert forged.status_code == 403 and "location" not in forged.headers
    again = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK,
        "scope": "api refresh_token"})  # still logged in, consent remembered
    assert again.status_code == 302 and again.headers["location"].startswith(f"{CALLBACK}?code=")
