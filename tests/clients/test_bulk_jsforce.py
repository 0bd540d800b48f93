"""jsforce's Bulk API calls, unmodified, on Node 22, against ``serve --tls``: ``bulk2``'s
``loadAndWaitForResults`` and ``query`` (its CSV pages followed by ``Sforce-Locator``), and
Bulk API 1.0's ``bulk.load`` (an XML job with a CSV batch)."""

from __future__ import annotations

import secrets

import pytest
from tests.clients.node import run_js
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    return live_server.access_token()


def test_bulk2_load_and_query(live_server: LiveServer, token: str) -> None:
    tag = secrets.token_hex(4)
    names = [f"Js2 {tag} {n:04d}" for n in range(1500)] + [""]  # the last has no Name
    loaded = run_js(live_server, "jsforce_bulk.js", scenario="bulk2Load", accessToken=token,
                    instanceUrl=live_server.url, names=names)  # type: ignore[arg-type]
    assert len(loaded["successful"]) == 1500 and loaded["unprocessed"] == 0
    assert loaded["successful"][0] == ["true", names[0]]
    assert loaded["failed"] == [["REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:"
                                 "Name --", ""]]
    out = run_js(live_server, "jsforce_bulk.js", scenario="bulk2Query", accessToken=token,
                 instanceUrl=live_server.url,
                 soql=f"SELECT Id, Name, NumberOfEmployees FROM Account WHERE Name LIKE "
                      f"'Js2 {tag}%' ORDER BY Name")
    assert out["count"] == 1500
    assert (out["first"]["Name"], out["first"]["NumberOfEmployees"]) == (names[0], "0")
    assert out["last"]["Name"] == names[1499] and out["first"]["Id"].startswith("001")


def test_bulk_load(live_server: LiveServer, token: str) -> None:
    out = run_js(live_server, "jsforce_bulk.js", scenario="bulkLoad", accessToken=token,
                 instanceUrl=live_server.url,
                 names=["Js1 A", "", "Js1 B"])  # type: ignore[arg-type]
    assert out["results"] == [
        [True, True, [], True],
        [False, False, ["REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"],
         False],
        [True, True, [], True]]
