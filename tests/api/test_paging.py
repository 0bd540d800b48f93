"""Query paging over 5,000 records: batches of 2,000 (or batchSize), nextRecordsUrl locators
that any worker can serve, every record seen exactly once (REST API Developer Guide, "Query
More Results")."""

from __future__ import annotations

import re

import pytest

N = 5000


@pytest.fixture
def many(services, admin):
    with services.data.store.transaction() as store:
        records = services.data.records.with_store(store)
        for n in range(N):
            records.create(admin, "Account", {"Name": f"Account {n:05d}",
                                              "NumberOfEmployees": n})
    return N


def test_pages_of_2000_cover_every_record_once(many, admin, api_as):
    api = api_as(admin)
    page = api.query("SELECT Id, Name FROM Account").json()
    assert (page["totalSize"], page["done"], len(page["records"])) == (N, False, 2000)
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", page["nextRecordsUrl"])
    seen = [r["Id"] for r in page["records"]]
    sizes = [len(page["records"])]
    while not page["done"]:
        page = api.client.get(page["nextRecordsUrl"], headers=api.headers).json()
        assert page["totalSize"] == N
        seen += [r["Id"] for r in page["records"]]
        sizes.append(len(page["records"]))
    assert sizes == [2000, 2000, 1000]
    assert len(seen) == len(set(seen)) == N
    assert "nextRecordsUrl" not in page


def test_batch_size_header_and_order_by_paging(many, admin, api_as):
    api = api_as(admin)
    page = api.get("/query", params={"q": "SELECT Name FROM Account ORDER BY Name DESC"},
                   headers={"Sforce-Query-Options": "batchSize=500"}).json()
    names = [r["Name"] for r in page["records"]]
    while not page["done"]:
        page = api.client.get(page["nextRecordsUrl"], headers=api.headers).json()
        names += [r["Name"] for r in page["records"]]
    assert names == [f"Account {n:05d}" for n in reversed(range(N))]


def test_limit_caps_total_and_locator_is_not_for_other_users(many, admin, make_user, api_as):
    api = api_as(admin)
    page = api.query("SELECT Id FROM Account WHERE NumberOfEmployees >= 1000 LIMIT 2500").json()
    assert (page["totalSize"], len(page["records"])) == (2500, 2000)
    other = api_as(make_user(grants={"Account": ["read"]}))
    r = other.client.get(page["nextRecordsUrl"], headers=other.headers)
    assert (r.status_code, r.json()[0]["errorCode"]) == (400, "INVALID_QUERY_LOCATOR")
    last = api.client.get(page["nextRecordsUrl"], headers=api.headers).json()
    assert (last["done"], len(last["records"])) == (True, 500)


def test_count_and_query_all_includes_deleted(admin, api_as):
    api = api_as(admin)
    ids = [api.post("/sobjects/Account", {"Name": f"A{n}"}).json()["id"] for n in range(3)]
    api.delete(f"/sobjects/Account/{ids[0]}")
    assert api.query("SELECT COUNT() FROM Account").json() == {
        "totalSize": 2, "done": True, "records": []}
    everything = api.get("/queryAll", params={"q": "SELECT Id, IsDeleted FROM Account "
                                              "ORDER BY Name"}).json()
    assert [(r["Id"], r["IsDeleted"]) for r in everything["records"]] == [
        (ids[0], True), (ids[1], False), (ids[2], False)]
