"""jsforce's data calls, unmodified, on Node 22, against ``serve --tls`` (clients.md §2):
``query`` with autoFetch across pages and ``sobject().create/retrieve/update/destroy``.

The session comes from the password grant and is passed as ``accessToken`` + ``instanceUrl``
(test_jsforce.py covers the logins). Each test checks what jsforce returned.
"""

from __future__ import annotations

import pytest
from tests.clients.node import run_js
from tests.clients.records import create_accounts, declare
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

PAGED = 2100  # a full page of 2,000 and a second of 100


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    return live_server.access_token()


def test_query_with_auto_fetch_reads_every_page(live_server: LiveServer, token: str) -> None:
    tag, names = create_accounts(live_server, token, PAGED)
    out = run_js(live_server, "jsforce_data.js", scenario="autoFetch", accessToken=token,
                 instanceUrl=live_server.url,
                 soql=f"SELECT Id, Name FROM Account WHERE Name LIKE 'Paged {tag}%' "
                      "ORDER BY Name")
    assert (out["totalSize"], out["done"], out["pages"]) == (PAGED, True, 2)
    assert out["names"] == names


def test_sobject_create_retrieve_update_destroy(live_server: LiveServer, token: str) -> None:
    out = run_js(live_server, "jsforce_data.js", scenario="crud", accessToken=token,
                 instanceUrl=live_server.url)
    record_id = out["created"]["id"]
    assert record_id.startswith("001") and len(record_id) == 18
    assert out["created"] == {"id": record_id, "success": True, "errors": []}
    assert out["retrieved"] == {"Id": record_id, "Name": "Jsforce Co", "Industry": "Energy",
                                "type": "Account"}
    # jsforce turns the 204s into SaveResults.
    assert out["updated"] == {"id": record_id, "success": True, "errors": []}
    assert out["industryAfter"] == "Media"
    assert out["destroyed"] == {"id": record_id, "success": True, "errors": []}
    assert out["missing"]["errorCode"] == "NOT_FOUND"
    assert out["missing"]["message"] == "The requested resource does not exist"


def test_parent_reference_by_external_id(live_server: LiveServer, token: str) -> None:
    declare(live_server, "Account", "Ref__c:Text:length=20:external_id")
    out = run_js(live_server, "jsforce_data.js", scenario="parentReference", accessToken=token,
                 instanceUrl=live_server.url)
    assert out["accountIdOfContact"] == out["account"]


def test_an_opportunity_with_line_items(live_server: LiveServer, token: str) -> None:
    out = run_js(live_server, "jsforce_data.js", scenario="lineItems", accessToken=token,
                 instanceUrl=live_server.url)
    assert out == {"items": [True, True], "amount": 230.0, "isWon": True,
                   "lines": [[1.0, 50.0], [4.0, 180.0]]}


def test_search(live_server: LiveServer, token: str) -> None:
    tag, names = create_accounts(live_server, token, 3)
    out = run_js(live_server, "jsforce_data.js", scenario="search", accessToken=token,
                 instanceUrl=live_server.url,
                 sosl=f"FIND {{{tag}}} IN NAME FIELDS RETURNING Account(Name ORDER BY Name "
                      "DESC LIMIT 2)")
    records = out["found"]["searchRecords"]
    assert [r["Name"] for r in records] == names[::-1][:2]
    assert all(r["attributes"]["type"] == "Account" for r in records)
    assert out["error"]["errorCode"] == "MALFORMED_SEARCH"
    assert out["error"]["message"].endswith("unexpected token: '<EOF>'")
