"""requests-oauthlib and authlib: the authorization code flow with PKCE (S256) against a real
server process, the browser step done by the scripted user of ``browser.py`` (clients.md §4)."""

from __future__ import annotations

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session
from tests.clients import browser
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

SCOPE = ["api", "refresh_token"]


@pytest.fixture
def http_callback(monkeypatch: pytest.MonkeyPatch, live_server: LiveServer) -> None:
    """The loopback callback is plain http (RFC 8252 §7.3): both libraries want a flag; the
    server's certificate is from the local CA."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live_server.ca))


def test_requests_oauthlib_code_flow_with_pkce(live_server: LiveServer,
                                               http_callback: None) -> None:
    session = OAuth2Session(live_server.consumer_key, redirect_uri=live_server.callback,
                            scope=SCOPE, pkce="S256")
    url, state = session.authorization_url(f"{live_server.url}/services/oauth2/authorize")
    assert "code_challenge_method=S256" in url
    callback = browser.authorize(url, live_server.username, live_server.password,
                                 live_server.callback, verify=str(live_server.ca))
    assert f"state={state}" in callback and f"iss={live_server.url}".replace(":", "%3A").replace(
        "/", "%2F") in callback
    token = session.fetch_token(f"{live_server.url}/services/oauth2/token",
                                authorization_response=callback,
                                client_secret=live_server.consumer_secret)
    assert token["scope"] == SCOPE and token["instance_url"] == live_server.url
    me = session.get(f"{live_server.url}/services/data/v60.0/query",
                     params={"q": "SELECT Username FROM User"})
    assert me.status_code == 200
    assert live_server.username in [r["Username"] for r in me.json()["records"]]


def test_authlib_code_flow_with_pkce(live_server: LiveServer, http_callback: None) -> None:
    session = AuthlibSession(live_server.consumer_key, live_server.consumer_secret,
                             redirect_uri=live_server.callback, scope=" ".join(SCOPE),
                             code_challenge_method="S256")
    verifier = generate_token(64)
    url, _state = session.create_authorization_url(
        f"{live_server.url}/services/oauth2/authorize", code_verifier=verifier)
    callback = browser.authorize(url, live_server.username, live_server.password,
                                 live_server.callback, verify=str(live_server.ca))
    token = session.fetch_token(f"{live_server.url}/services/oauth2/token",
                                authorization_response=callback, code_verifier=verifier)
    assert token["scope"] == " ".join(SCOPE) and "refresh_token" in token
    refreshed = session.refresh_token(f"{live_server.url}/services/oauth2/token")
    assert refreshed["access_token"] != token["access_token"]
    response = session.get(f"{live_server.url}/services/data/v60.0/sobjects")
    assert response.status_code == 200
