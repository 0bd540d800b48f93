"""HTTP methods on the data API: each route answers only the methods it lists.

Regression for issue #19: a ``HEAD`` on a record URL used to fall through to the delete
branch. The walk below tries every method on every route of the table with an existing
record, and checks that nothing a read-only method touches changes in the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import compile_path

from localforce.web.routes.data import TABLE

WRITES = {"POST", "PATCH", "PUT", "DELETE"}
ALL = ("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "POST", "PATCH", "DELETE")  # reads first


def _snapshot(api: Any) -> list[dict[str, Any]]:
    records = api.query("SELECT Id, Name, Phone FROM Account ORDER BY Id").json()["records"]
    return [{k: v for k, v in r.items() if k != "attributes"} for r in records]


def test_head_on_a_record_reads_it_and_deletes_nothing(admin, api_as):
    api = api_as(admin)
    rid = api.post("/sobjects/Account", {"Name": "Kept"}).json()["id"]
    get = api.get(f"/sobjects/Account/{rid}")

    head = api.client.head(api.url(f"/sobjects/Account/{rid}"), headers=api.headers)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert "Sforce-Limit-Info" in head.headers
    assert api.get(f"/sobjects/Account/{rid}").json()["Name"] == "Kept"


def test_head_on_an_external_id_url_does_not_upsert(admin, api_as):
    api = api_as(admin)
    head = api.client.head(api.url("/sobjects/Account/Id/001000000000000AAA"),
                           headers=api.headers)
    assert head.status_code == 404
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


def test_an_unlisted_method_is_405_in_salesforce_format_with_allow(admin, api_as):
    api = api_as(admin)
    rid = api.post("/sobjects/Account", {"Name": "Kept"}).json()["id"]

    response = api.client.put(api.url(f"/sobjects/Account/{rid}"), headers=api.headers,
                              json={"Name": "Changed"})

    assert response.status_code == 405
    assert response.json() == [{
        "errorCode": "METHOD_NOT_ALLOWED",
        "message": "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,PATCH,DELETE"}]
    assert response.headers["Allow"] == "HEAD,GET,PATCH,DELETE"
    assert api.get(f"/sobjects/Account/{rid}").json()["Name"] == "Kept"


def _concrete(path: str, rid: str) -> str:
    return (path.replace("{sobject}", "Account").replace("{id}", rid)
            .replace("{field}", "Id").replace("{value}", rid)
            .replace("{locator}", "01gXXXXXXXXXXXXXXX-2000").replace("{rest:path}", "sobjects"))


@pytest.mark.parametrize("path,methods", TABLE, ids=[p or "/" for p, _ in TABLE])
def test_every_route_answers_only_its_listed_methods_and_read_methods_write_nothing(
        admin, api_as, path, methods):
    api = api_as(admin)
    rid = api.post("/sobjects/Account", {"Name": "Kept", "Phone": "1"}).json()["id"]
    before = _snapshot(api)
    concrete = _concrete(path, rid)
    # A URL another pattern also matches (``/sobjects/Account/describe`` is a record URL
    # too) answers that route's methods as well.
    allowed = {m for p, ms in TABLE if compile_path(p)[0].match(concrete) for m in ms}
    allowed |= {"HEAD"} if "GET" in allowed else set()
    url = api.url(concrete)
    if "{sobject}/{field}" in path:
        url += "?ids=" + rid  # a harmless query for the collection routes

    for method in ALL:
        response = api.client.request(method, url, headers=api.headers)
        if method not in allowed:
            assert response.status_code == 405, (method, url, response.text)
            if method != "HEAD":  # a HEAD answer has no body
                assert response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
        else:
            assert response.status_code != 405, (method, url)
        if method not in WRITES:
            assert _snapshot(api) == before, (method, url)
