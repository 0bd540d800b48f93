"""jsforce, unmodified, on Node 22, against ``serve --tls`` (trusting the CA through
``NODE_EXTRA_CA_CERTS``): SOAP and password-grant logins, refresh on 401, identity()."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from tests.clients.browser import authorize
from tests.clients.node import run_js
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

SESSION = re.compile(r"^00D\w{12,15}![.\w]+$")


def assert_logged_in(out: dict[str, str], server: LiveServer) -> None:
    assert SESSION.match(out["accessToken"]), out
    assert out["instanceUrl"] == server.url
    assert out["orgId"] == server.org_id
    assert out["userId"].startswith("005") and len(out["userId"]) == 18
    assert out["username"] == server.username


def test_login_by_soap(live_server: LiveServer) -> None:
    assert_logged_in(run_js(live_server, "jsforce.js", scenario="soapLogin"), live_server)


def test_login_by_the_password_grant(live_server: LiveServer) -> None:
    assert_logged_in(run_js(live_server, "jsforce.js", scenario="passwordLogin"), live_server)


def code_grant_tokens(server: LiveServer) -> dict[str, str]:
    """An access and a refresh token from the web-server flow (a scripted user approves)."""
    query = urlencode({"response_type": "code", "client_id": server.consumer_key,
                       "redirect_uri": server.callback, "scope": "api refresh_token",
                       "state": secrets.token_hex(6)})
    callback = authorize(f"{server.url}/services/oauth2/authorize?{query}", server.username,
                         server.password, server.callback, str(server.ca))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with server.http() as client:
        response = client.post("/services/oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": server.consumer_key,
            "client_secret": server.consumer_secret, "redirect_uri": server.callback})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_refresh_on_401_after_the_access_token_is_revoked(live_server: LiveServer) -> None:
    tokens = code_grant_tokens(live_server)
    with live_server.http() as client:
        revoked = client.post("/services/oauth2/revoke", data={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    out = run_js(live_server, "jsforce.js", scenario="refreshOn401",
                 instanceUrl=tokens["instance_url"], accessToken=tokens["access_token"],
                 refreshToken=tokens["refresh_token"])
    assert out["totalSize"] >= 1
    assert out["refreshedTo"] == out["accessToken"] != tokens["access_token"]
    assert SESSION.match(out["accessToken"])


def test_identity(live_server: LiveServer) -> None:
    out = run_js(live_server, "jsforce.js", scenario="identity")
    user_id = out["userInfo"]["id"]
    assert out["organization_id"] == live_server.org_id == out["userInfo"]["organizationId"]
    assert out["user_id"] == user_id
    assert out["username"] == live_server.username
    assert out["id"] == f"{live_server.url}/id/{live_server.org_id}/{user_id}"
