"""jsforce's OAuth2 web-server flow with PKCE (``useVerifier: true``) against a real server.

jsforce sends ``code_challenge`` without a method and a 171-character verifier (clients.md §2,
salesforce-wire.md C5). The browser step is done by the scripted user of ``browser.py``.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from tests.clients import browser
from tests.clients.node import NODE_BIN, SCRIPTS, node_env, require_node
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients


def test_jsforce_web_server_flow_with_pkce(live_server: LiveServer) -> None:
    require_node("jsforce")
    config = {"url": live_server.url, "clientId": live_server.consumer_key,
              "clientSecret": live_server.consumer_secret, "redirectUri": live_server.callback,
              "scope": "api refresh_token", "state": "jsforce-state-1"}
    process = subprocess.Popen(
        [str(NODE_BIN / "node"), str(SCRIPTS / "jsforce_web_server.js"), json.dumps(config)],
        env=node_env(live_server), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdin is not None
        first = json.loads(process.stdout.readline())
        url = first["authorizationUrl"]
        assert "code_challenge=" in url and "code_challenge_method" not in url
        assert first["verifierLength"] == 171
        callback = browser.authorize(url, live_server.username, live_server.password,
                                     live_server.callback, verify=str(live_server.ca))
        out, err = process.communicate(callback + "\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["instanceUrl"] == live_server.url
    assert result["userInfo"]["organizationId"] == live_server.org_id
    assert result["hasRefreshToken"] is True
    assert live_server.username in result["usernames"]
