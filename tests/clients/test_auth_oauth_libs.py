"""Generic OAuth 2.0 libraries against a real ``localforce serve``: requests-oauthlib refreshes
a token; authlib runs client credentials, introspection and revocation (clients.md §4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Both libraries refuse http unless told; the server is on loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    yield


def test_requests_oauthlib_refreshes_a_token(live_server_http: LiveServer,
                                             insecure_transport: None) -> None:
    server = live_server_http
    refresh_token = server.refresh_token()
    client = OAuth2Session(server.consumer_key, token={
        "access_token": "expired", "refresh_token": refresh_token, "token_type": "Bearer"})
    token = client.refresh_token(f"{server.url}/services/oauth2/token",
                                 refresh_token=refresh_token, client_id=server.consumer_key,
                                 client_secret=server.consumer_secret)
    assert token["access_token"].startswith(server.org_id[:15] + "!")
    assert token["refresh_token"] == refresh_token  # no rotation: the same one stays
    response = client.get(f"{server.url}/services/oauth2/userinfo")
    assert response.status_code == 200
    assert response.json()["preferred_username"] == server.username


def test_authlib_refreshes_with_basic_auth(live_server_http: LiveServer,
                                           insecure_transport: None) -> None:
    server = live_server_http
    client = AuthlibSession(server.consumer_key, server.consumer_secret)
    token = client.refresh_token(f"{server.url}/services/oauth2/token",
                                 refresh_token=server.refresh_token())
    assert token["scope"] == "api refresh_token"
    response = client.get(f"{server.url}/services/data/v59.0/query",
                          params={"q": "SELECT Username FROM User"})
    assert response.status_code == 200


def test_authlib_client_credentials_introspect_and_revoke(live_server_http: LiveServer,
                                                          insecure_transport: None) -> None:
    server = live_server_http
    client = AuthlibSession(server.consumer_key, server.consumer_secret)
    token = client.fetch_token(f"{server.url}/services/oauth2/token",
                               grant_type="client_credentials")
    access = token["access_token"]
    info = client.introspect_token(f"{server.url}/services/oauth2/introspect", token=access)
    assert info.json()["active"] is True
    assert info.json()["username"] == server.username
    assert client.revoke_token(f"{server.url}/services/oauth2/revoke",
                               token=access).status_code == 200
    again = client.introspect_token(f"{server.url}/services/oauth2/introspect", token=access)
    assert again.json() == {"active": False}
