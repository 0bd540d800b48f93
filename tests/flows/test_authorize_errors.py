"""Authorize-endpoint errors: shown as a page before the redirect URI is trusted, redirected
with ``error``, ``error_description``, ``state`` and ``iss`` after (RFC 6749 §4.1.2.1,
salesforce-wire.md §4.2), and the page-level defences (CSRF, framing, CORS)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.flows.browser_forms import AUTHORIZE, code_from, forms, log_in, submit
from tests.flows.browser_world import CALLBACK, KEY, PASSWORD, World, world_fixture  # noqa: F401

from localforce.domain.models import PermittedUsers
from localforce.security.tokens import digest

ISS = "iss=http%3A%2F%2Ftestserver"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def authorize(world: World, **params: str | None) -> Any:
    query = {"response_type": "code", "client_id": KEY, "redirect_uri": CALLBACK,
             "state": "xyz", **params}
    return world.client.get(AUTHORIZE, params={k: v for k, v in query.items() if v is not None},
                            follow_redirects=False)


def error_location(error: str, description: str, state: str | None = "xyz") -> str:
    from urllib.parse import urlencode

    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return f"{CALLBACK}?{urlencode(params)}&{ISS}"


# -- never redirected -------------------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "https://app.example.com/cb/",
    "https://app.example.com/cb?x=1",
    "https://app.example.com/CB",
    "HTTPS://APP.EXAMPLE.COM/cb",
    "https://app.example.com/cb/../cb",
    "https://app.example.com/x/../cb",
    "https://app.example.com:443/cb",
    "https://app.example.com/cb#frag",
    "https://app.example.com.evil.test/cb",
    "https://evil.test/cb",
    "http://app.example.com/cb",
])
def test_near_miss_redirect_uris_get_a_page_not_a_redirect(world: World,
                                                           redirect_uri: str) -> None:
    response = authorize(world, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri_mismatch" in response.text
    assert "redirect_uri must match configuration" in response.text


@pytest.mark.parametrize("redirect_uri", ["http://localhost:1718/OauthRedirect",
                                          "http://127.0.0.1:1717/OauthRedirect",
                                          "http://localhost/OauthRedirect"])
def test_a_loopback_callback_matches_exactly_too(world: World, redirect_uri: str) -> None:
    """No RFC 8252 port wildcard: Salesforce compares loopback callbacks exactly as well."""
    response = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": "PlatformCLI", "redirect_uri": redirect_uri,
        "code_challenge": CHALLENGE})
    assert response.status_code == 400 and "location" not in response.headers
    assert "redirect_uri_mismatch" in response.text


def test_a_missing_redirect_uri_gets_a_page(world: World) -> None:
    response = authorize(world, redirect_uri=None)
    assert response.status_code == 400 and "location" not in response.headers
    assert "redirect_uri_missing" in response.text


@pytest.mark.parametrize("client_id", ["nope", "", None])
def test_an_unknown_client_gets_a_page(world: World, client_id: str | None) -> None:
    response = authorize(world, client_id=client_id)
    assert response.status_code == 400 and "location" not in response.headers
    assert "invalid_client_id" in response.text and "client identifier invalid" in response.text


def test_another_apps_callback_is_a_mismatch(world: World) -> None:
    response = authorize(world, client_id="PlatformCLI")
    assert response.status_code == 400 and "location" not in response.headers


# -- redirected -------------------------------------------------------------------------------

def test_unknown_response_type_is_redirected(world: World) -> None:
    response = authorize(world, response_type="id_token code")
    assert response.status_code == 302
    assert response.headers["location"] == error_location(
        "unsupported_response_type", "response type not supported")


def test_token_for_an_app_without_the_user_agent_flow_goes_in_the_fragment(world: World) -> None:
    response = authorize(world, response_type="token")
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{CALLBACK}#error=unsupported_response_type&error_description=response+type+not"
        f"+supported&state=xyz&{ISS}")


def test_a_scope_the_app_lacks_is_redirected(world: World) -> None:
    response = authorize(world, scope="api chatter_api")
    assert response.headers["location"] == error_location(
        "invalid_scope", "requested scope is invalid, unknown, or malformed")


def test_plain_pkce_is_refused(world: World) -> None:
    response = authorize(world, code_challenge=CHALLENGE, code_challenge_method="plain")
    assert response.headers["location"] == error_location(
        "invalid_request", "unsupported code challenge method")


def test_a_malformed_challenge_is_refused(world: World) -> None:
    response = authorize(world, code_challenge="too-short")
    assert response.headers["location"] == error_location(
        "invalid_request", "invalid code challenge")


def test_an_app_requiring_pkce_refuses_a_request_without_it(world: World) -> None:
    world.save_app(require_pkce=True)
    response = authorize(world)
    assert response.headers["location"] == error_location(
        "invalid_request", "missing required code challenge")


def test_a_public_client_must_use_pkce(world: World) -> None:
    callback = "http://localhost:1717/OauthRedirect"
    response = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": "PlatformCLI", "redirect_uri": callback})
    assert response.headers["location"] == (
        f"{callback}?error=invalid_request&error_description=missing+required+code+challenge"
        f"&{ISS}")


def test_errors_without_state_carry_none(world: World) -> None:
    response = authorize(world, response_type="nope", state=None)
    assert response.headers["location"] == error_location(
        "unsupported_response_type", "response type not supported", state=None)


def test_bad_prompt_values_are_refused(world: World) -> None:
    response = authorize(world, prompt="none login")
    assert response.headers["location"] == error_location(
        "invalid_request", "invalid prompt parameter")


def test_prompt_none_without_a_session_is_login_required(world: World) -> None:
    response = authorize(world, prompt="none")
    assert response.headers["location"] == error_location("login_required", "login required")


def test_immediate_without_a_session_is_immediate_unsuccessful(world: World) -> None:
    response = authorize(world, immediate="true")
    assert response.headers["location"] == error_location(
        "immediate_unsuccessful", "immediate unsuccessful")


# -- admin-approved apps ----------------------------------------------------------------------

def test_admin_approved_app_skips_consent_for_pre_authorized_users(world: World) -> None:
    world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED,
                   authorized_profile_ids=(world.user.profile_id,))
    after_login = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    assert after_login.status_code == 302
    assert after_login.headers["location"].startswith(f"{CALLBACK}?code=")


def test_admin_approved_app_refuses_everybody_else(world: World) -> None:
    world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED, authorized_profile_ids=())
    refused = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    assert refused.status_code == 303
    assert refused.headers["location"] == error_location(
        "invalid_app_access", "user is not admin approved to access this app")
    assert world.history()[-1]["status"] == "Failed: Not approved for access"


def test_an_inactive_user_is_redirected_with_inactive_user(world: World) -> None:
    world.services.directory.store.save_user(replace(world.user, active=False))
    refused = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    assert refused.headers["location"] == error_location("inactive_user", "user is inactive")


# -- page defences ----------------------------------------------------------------------------

def test_login_without_a_csrf_token_is_refused(world: World) -> None:
    page = authorize(world)
    (form,) = forms(page.text)
    data = {**form.fields, "username": world.user.username, "password": PASSWORD}
    del data["csrf_token"]
    response = world.client.post(form.action, data=data, follow_redirects=False)
    assert response.status_code == 403 and "location" not in response.headers
    assert world.history() == []  # not even attempted


def test_login_with_another_browsers_csrf_token_is_refused(world: World) -> None:
    page = authorize(world)
    world.client.cookies.clear()
    authorize(world)  # a fresh browser id
    response = submit(world.client, page.text, username=world.user.username, password=PASSWORD)
    assert response.status_code == 403


def test_consent_without_a_csrf_token_is_refused(world: World) -> None:
    consent = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    form = forms(consent.text)[0]
    data = {**form.fields, "_action": "allow", "csrf_token": "0" * 64}
    response = world.client.post(form.action, data=data, follow_redirects=False)
    assert response.status_code == 403 and "location" not in response.headers


def test_login_answers_303_never_307(world: World) -> None:
    page = authorize(world)
    response = submit(world.client, page.text, username=world.user.username, password=PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"].startswith(AUTHORIZE + "?")


def test_logging_in_replaces_the_session_id(world: World) -> None:
    page = authorize(world)
    before = world.client.cookies["lf_session"]
    submit(world.client, page.text, username=world.user.username, password=PASSWORD)
    assert world.client.cookies["lf_session"] != before


@pytest.mark.parametrize("path", [
    f"{AUTHORIZE}?response_type=code&client_id={KEY}&redirect_uri={CALLBACK}",
    f"{AUTHORIZE}?client_id=nope",
    "/setup/connect",
    "/logout",
])
def test_every_page_forbids_framing(world: World, path: str) -> None:
    response = world.client.get(path, follow_redirects=False)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_the_consent_page_forbids_framing(world: World) -> None:
    consent = log_in(world.client, authorize(world), world.user.username, PASSWORD)
    assert "Allow access?" in consent.text
    assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]


def test_no_cors_on_the_authorize_endpoint(world: World) -> None:
    preflight = world.client.options(AUTHORIZE, headers={
        "Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
    simple = world.client.get(AUTHORIZE, params={"client_id": KEY},
                              headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in simple.headers


def test_a_second_orgs_user_gets_their_own_orgs_platform_cli(world: World) -> None:
    """PlatformCLI exists once per org; the code names the user's org's copy."""
    directory = world.services.directory
    other = directory.create_org("Other")
    user, _ = directory.create_user(other.id, "bo@other.test", PASSWORD, "Standard User")
    callback = "http://localhost:1717/OauthRedirect"
    page = world.client.get(AUTHORIZE, follow_redirects=False, params={
        "response_type": "code", "client_id": "PlatformCLI", "redirect_uri": callback,
        "code_challenge": CHALLENGE})
    consent = log_in(world.client, page, user.username, PASSWORD)
    redirect = submit(world.client, consent.text, button=("_action", "allow"))
    stored = world.services.browser.grants.get_code(digest(code_from(
        redirect.headers["location"])))
    assert stored is not None
    app = directory.store.get_app(stored.app_id)
    assert app is not None and (app.name, app.org_id) == ("PlatformCLI", other.id)
