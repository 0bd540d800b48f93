"""Pushed authorization requests (RFC 9126) against a real ``localforce serve`` with httpx:
push with HTTP Basic, authorize by ``request_uri``, log in, exchange the code with PKCE; the
``request_uri`` is refused the second time. (authlib's clients have no PAR helper: hand-built.)
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.clients.server import LiveServer
from tests.flows.browser_forms import submit

from localforce.oauth import pkce

pytestmark = pytest.mark.clients

VERIFIER = "par-live-verifier-" + "x" * 40


def test_the_web_server_flow_through_par_and_its_replay(live_server_http: LiveServer) -> None:
    server = live_server_http
    basic = base64.b64encode(f"{server.consumer_key}:{server.consumer_secret}".encode()).decode()
    with server.http() as http:
        pushed = http.post("/services/oauth2/par", headers={"Authorization": f"Basic {basic}"},
                           data={"response_type": "code", "redirect_uri": server.callback,
                                 "scope": "api refresh_token", "state": "live-1",
                                 "code_challenge": pkce.s256(VERIFIER),
                                 "code_challenge_method": "S256"})
        assert pushed.status_code == 201
        assert pushed.json()["expires_in"] == 60
        uri = pushed.json()["request_uri"]
        query = {"client_id": server.consumer_key, "request_uri": uri}

        page = http.get("/services/oauth2/authorize", params=query)
        assert page.status_code == 200 and 'name="username"' in page.text
        logged_in = submit(http, page.text, username=server.username, password=server.password)
        assert logged_in.status_code == 303
        # An admin-approved app, pre-authorized for the admin's profile: no consent page.
        back = http.get(logged_in.headers["location"], follow_redirects=False)
        location = back.headers["location"]
        assert location.startswith(server.callback + "?")
        answer = parse_qs(urlsplit(location).query)
        assert answer["state"] == ["live-1"]

        token = http.post("/services/oauth2/token", data={
            "grant_type": "authorization_code", "code": answer["code"][0],
            "client_id": server.consumer_key, "client_secret": server.consumer_secret,
            "redirect_uri": server.callback, "code_verifier": VERIFIER})
        assert token.status_code == 200 and token.json()["scope"] == "api refresh_token"

        replay = http.get("/services/oauth2/authorize", params=query)
        assert replay.status_code == 400 and "invalid_request_uri" in replay.text
