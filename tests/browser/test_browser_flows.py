"""The browser flows in real headless Chromium: Web Server with PKCE (login, consent, redirect
to a local callback server, code exchange, API call), Deny, User-Agent, device activation."""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from tests.browser.conftest import Callback
from tests.clients.server import LiveServer

from localforce.oauth import pkce

pytestmark = pytest.mark.browser


def authorize_url(server: LiveServer, **params: str) -> str:
    query = {"response_type": "code", "client_id": server.consumer_key,
             "redirect_uri": server.callback, "state": "st-" + secrets.token_hex(4),
             "scope": "api refresh_token", **params}
    return f"{server.url}/services/oauth2/authorize?{urlencode(query)}"


def log_in(page: Any, server: LiveServer) -> None:
    assert page.locator("h1").inner_text().startswith("Log in")
    page.fill("#username", server.username)
    page.fill("#password", server.password)
    page.click("#login")


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def api(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}/services/data/v60.0/query",
                     params={"q": "SELECT Username FROM User"},
                     headers={"Authorization": f"Bearer {token}"}, trust_env=False)


def test_web_server_flow_with_pkce(page: Any, browser_server: LiveServer,
                                   callback: Callback) -> None:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(128)).rstrip(b"=").decode()
    url = authorize_url(browser_server, code_challenge=pkce.s256(verifier), state="web-1")
    page.goto(url)
    assert fits_the_screen(page)
    log_in(page, browser_server)
    page.wait_for_selector("#allow")
    assert "Browser App" in page.content() and "Manage user data via APIs" in page.content()
    assert fits_the_screen(page)
    page.click("#allow")
    page.wait_for_url(callback.url + "?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["web-1"] and query["iss"] == [browser_server.url]
    code = query["code"][0]
    assert any(hit.startswith("/cb?code=") and quote(code) in hit for hit in callback.hits)

    token = httpx.post(f"{browser_server.url}/services/oauth2/token", trust_env=False, data={
        "grant_type": "authorization_code", "code": code,
        "client_id": browser_server.consumer_key,
        "client_secret": browser_server.consumer_secret,
        "redirect_uri": browser_server.callback, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["scope"] == "api refresh_token" and "refresh_token" in body
    result = api(browser_server, body["access_token"])
    assert result.status_code == 200
    assert browser_server.username in [r["Username"] for r in result.json()["records"]]


def test_deny(page: Any, browser_server: LiveServer, callback: Callback) -> None:
    challenge = pkce.s256("d" * 43)
    page.goto(authorize_url(browser_server, code_challenge=challenge, state="deny-1",
                            prompt="consent"))
    log_in(page, browser_server)
    page.click("#deny")
    page.wait_for_url(callback.url + "?*")
    assert parse_qs(urlsplit(page.url).query) == {
        "error": ["access_denied"], "error_description": ["end-user denied authorization"],
        "state": ["deny-1"], "iss": [browser_server.url]}


def test_user_agent_flow(page: Any, browser_server: LiveServer, callback: Callback) -> None:
    page.goto(authorize_url(browser_server, response_type="token", state="ua-1",
                            scope="api", prompt="consent"))
    log_in(page, browser_server)
    page.click("#allow")
    page.wait_for_url(callback.url + "#*")
    fields = parse_qs(urlsplit(page.url).fragment)
    assert fields["state"] == ["ua-1"] and fields["token_type"] == ["Bearer"]
    assert "refresh_token" not in fields  # no refresh_token scope asked
    assert api(browser_server, fields["access_token"][0]).status_code == 200


def test_device_activation(page: Any, browser_server: LiveServer) -> None:
    codes = httpx.post(f"{browser_server.url}/services/oauth2/token", trust_env=False, data={
        "response_type": "device_code", "client_id": browser_server.consumer_key,
        "scope": "api"}).json()
    page.goto(codes["verification_uri"])
    assert fits_the_screen(page)
    page.fill("#user_code", codes["user_code"].lower())
    page.click("#connect")
    log_in(page, browser_server)
    page.wait_for_selector("#allow")
    assert codes["user_code"] in page.content()
    page.click("#allow")
    page.wait_for_selector("text=Device connected")
    token = httpx.post(f"{browser_server.url}/services/oauth2/token", trust_env=False, data={
        "grant_type": "device", "client_id": browser_server.consumer_key,
        "client_secret": browser_server.consumer_secret,  # a confidential app (issue #20)
        "code": codes["device_code"]})
    assert token.status_code == 200, token.text
    assert api(browser_server, token.json()["access_token"]).status_code == 200


def test_pages_cannot_be_framed(page: Any, browser_server: LiveServer) -> None:
    response = page.goto(authorize_url(browser_server, code_challenge=pkce.s256("f" * 43)))
    assert response is not None
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
