"""The Salesforce CLI (``sf``, on Node 22), unmodified, against ``serve --tls``.

Each login method runs once per module in its own fresh ``HOME`` (sf merges auth files per
username otherwise); ``sf data query`` and ``sf org display`` then run on each login
(clients.md §3).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from tests.clients.node import run_sf
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

ALIAS = "lf"
METHODS = ("jwt", "access-token", "web")


def login_jwt(server: LiveServer, home: Path) -> dict[str, Any]:
    return run_sf(server, home, "org", "login", "jwt", "--client-id", server.consumer_key,
                  "--jwt-key-file", str(server.jwt_key), "--username", server.username,
                  "--instance-url", server.url, "--alias", ALIAS)


def login_access_token(server: LiveServer, home: Path) -> dict[str, Any]:
    return run_sf(server, home, "org", "login", "access-token", "--instance-url", server.url,
                  "--no-prompt", "--alias", ALIAS, env={"SF_ACCESS_TOKEN": server.access_token()})


def login_web(server: LiveServer, home: Path) -> dict[str, Any]:
    """The browser step is ``browser.py`` through ``$BROWSER``: it logs in on the authorize
    page and follows the redirect to sf's callback on localhost:1717 (PlatformCLI, PKCE)."""
    opener = home / "browser.sh"
    opener.write_text(f"#!/bin/sh\n{sys.executable} {Path(__file__).parent / 'browser.py'} "
                      f'"$1" >{home / "browser.log"} 2>&1 &\nexit 0\n')
    opener.chmod(0o755)
    env = {"BROWSER": str(opener), "LF_TEST_USERNAME": server.username,
           "LF_TEST_PASSWORD": server.password, "LF_TEST_CA": str(server.ca),
           "SF_WEB_OAUTH_SERVER_TIMEOUT": "60000"}
    return run_sf(server, home, "org", "login", "web", "--instance-url", server.url,
                  "--alias", ALIAS, env=env)


LOGINS = {"jwt": login_jwt, "access-token": login_access_token, "web": login_web}


@pytest.fixture(scope="module", params=METHODS)
def logged_in(request: pytest.FixtureRequest, live_server: LiveServer,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(HOME, the login's JSON result) for one login method."""
    home = tmp_path_factory.mktemp(f"sf-{request.param}")
    return home, LOGINS[request.param](live_server, home)["result"]


def test_org_login(logged_in: tuple[Path, dict[str, Any]], live_server: LiveServer) -> None:
    _, result = logged_in
    assert result["username"] == live_server.username
    assert result["orgId"] == live_server.org_id
    assert result["instanceUrl"].rstrip("/") == live_server.url


def test_data_query(logged_in: tuple[Path, dict[str, Any]], live_server: LiveServer) -> None:
    home, _ = logged_in
    soql = f"SELECT Id, Username FROM User WHERE Username = '{live_server.username}'"
    query = run_sf(live_server, home, "data", "query", "-q", soql, "-o", ALIAS)["result"]
    assert query["totalSize"] == 1 and query["done"] is True
    assert [r["Username"] for r in query["records"]] == [live_server.username]


def test_org_display(logged_in: tuple[Path, dict[str, Any]], live_server: LiveServer) -> None:
    home, _ = logged_in
    display = run_sf(live_server, home, "org", "display", "-o", ALIAS)["result"]
    assert display["id"] == live_server.org_id
    assert display["username"] == live_server.username
    assert display["instanceUrl"].rstrip("/") == live_server.url
    assert display["connectedStatus"] == "Connected"
    assert display["apiVersion"] == "62.0"  # the highest from GET /services/data


@pytest.mark.parametrize("logged_in", ["jwt"], indirect=True)
def test_org_assign_permset(logged_in: tuple[Path, dict[str, Any]],
                            live_server: LiveServer) -> None:
    """``sf org assign permset`` queries the PermissionSet by Name, then inserts a
    PermissionSetAssignment; assigning it again reports sf's failure, not a crash."""
    home, _ = logged_in
    done = run_sf(live_server, home, "org", "assign", "permset", "--name", "CompatReaders",
                  "-o", ALIAS)["result"]
    assert done == {"successes": [{"name": live_server.username, "value": "CompatReaders"}],
                    "failures": []}
    soql = ("SELECT PermissionSet.Name FROM PermissionSetAssignment "
            f"WHERE Assignee.Username = '{live_server.username}'")
    query = run_sf(live_server, home, "data", "query", "-q", soql, "-o", ALIAS)["result"]
    assert [r["PermissionSet"]["Name"] for r in query["records"]] == ["CompatReaders"]
    again = run_sf(live_server, home, "org", "assign", "permset", "--name", "CompatReaders",
                   "-o", ALIAS, check=False)
    failures = again["result"]["failures"] if "result" in again else again["data"]["failures"]
    assert [f["name"] for f in failures] == [live_server.username]
    assert "Duplicate PermissionSetAssignment" in failures[0]["message"]
