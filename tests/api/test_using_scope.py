"""SOQL ``USING SCOPE`` (issue #22): ``mine`` is the caller's own rows, ``everything`` every row
the caller may see; a scope narrows and never widens; a scope the object or this server lacks
is refused. Exact wire JSON, two users owning different rows, on both backends."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both
from tests.api.conftest import VERSION, Api

from localforce.bootstrap import Services
from localforce.domain.models import PRIVATE

BASE = f"/services/data/v{VERSION}"


@pytest.fixture
def alice(make_user: Any, api_as: Any) -> Api:
    return api_as(make_user("Standard User"))


@pytest.fixture
def bob(make_user: Any, api_as: Any) -> Api:
    return api_as(make_user("Standard User"))


def account(api: Api, name: str) -> str:
    return str(api.post("/sobjects/Account", {"Name": name}).json()["id"])


def row(sobject: str, record_id: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": sobject, "url": f"{BASE}/sobjects/{sobject}/{record_id}"},
            **fields}


def test_mine_is_each_callers_own_rows_exact_wire(alice: Api, bob: Api) -> None:
    alices, bobs = account(alice, "Alice's"), account(bob, "Bob's")
    soql = "SELECT Id, Name FROM Account USING SCOPE mine"
    for api, record_id, name in ((alice, alices, "Alice's"), (bob, bobs, "Bob's"),
                                 (alice, alices, "Alice's")):  # no plan or SQL is shared
        r = api.query(soql)
        assert (r.status_code, r.json()) == (200, {
            "totalSize": 1, "done": True,
            "records": [row("Account", record_id, Id=record_id, Name=name)]})
    everything = bob.query("SELECT Name FROM Account USING SCOPE everything ORDER BY Name")
    assert [r["Name"] for r in everything.json()["records"]] == ["Alice's", "Bob's"]


def test_mine_with_count_aggregates_and_subqueries(alice: Api, bob: Api) -> None:
    alices = account(alice, "Alice's")
    account(alice, "Alice's too")
    bobs = account(bob, "Bob's")
    bob.post("/sobjects/Contact", {"LastName": "B", "AccountId": bobs})
    alice.post("/sobjects/Contact", {"LastName": "A", "AccountId": alices})
    r = bob.query("SELECT COUNT() FROM Account USING SCOPE mine")
    assert r.json() == {"totalSize": 1, "done": True, "records": []}
    r = alice.query("SELECT COUNT(Id) n FROM Account USING SCOPE mine")
    assert r.json() == {"totalSize": 1, "done": True, "records": [
        {"attributes": {"type": "AggregateResult"}, "n": 2}]}
    r = bob.query("SELECT Name, (SELECT LastName FROM Contacts) FROM Account USING SCOPE mine")
    assert [(a["Name"], [c["LastName"] for c in a["Contacts"]["records"]])
            for a in r.json()["records"]] == [("Bob's", ["B"])]
    # The scope limits the rows of the FROM object; a WHERE still applies on top.
    assert alice.query("SELECT Id FROM Account USING SCOPE mine WHERE Name LIKE 'Bob%'"
                       ).json()["totalSize"] == 0


def test_query_all_with_mine_sees_only_the_callers_deleted_rows(alice: Api, bob: Api) -> None:
    alice.delete(f"/sobjects/Account/{account(alice, 'Alice gone')}")
    bobs = account(bob, "Bob gone")
    bob.delete(f"/sobjects/Account/{bobs}")
    r = bob.get("/queryAll", params={"q": "SELECT Id, IsDeleted FROM Account USING SCOPE mine"})
    assert r.json() == {"totalSize": 1, "done": True,
                        "records": [row("Account", bobs, Id=bobs, IsDeleted=True)]}


def test_bulk_query_job_runs_the_scope_as_its_creator(services: Services, alice: Api,
                                                      bob: Api) -> None:
    account(alice, "Alice's")
    bobs = account(bob, "Bob's")
    created = bob.post("/jobs/query", {"operation": "query",
                                       "query": "SELECT Id, Name FROM Account USING SCOPE mine"})
    assert created.status_code == 200, created.text
    services.bulk.runner.run_pending()
    page = bob.get(f"/jobs/query/{created.json()['id']}/results")
    assert list(csv.DictReader(io.StringIO(page.text))) == [{"Id": bobs, "Name": "Bob's"}]


def test_a_scope_never_widens_what_the_caller_sees(alice: Api, bob: Api, api: Api,
                                                   services: Services, org: Any,
                                                   clock: Any) -> None:
    account(alice, "Alice's")
    bobs = account(bob, "Bob's")
    services.directory.set_sharing(services.directory.store.get_org(org.id), "Account",
                                   PRIVATE)
    clock.advance(1)
    for scope in ("everything", "mine"):
        r = bob.query(f"SELECT Id FROM Account USING SCOPE {scope}")
        assert [a["Id"] for a in r.json()["records"]] == [bobs], scope
    # An administrator sees every row, yet ``mine`` is still only the rows they own.
    assert api.query("SELECT Id FROM Account USING SCOPE everything").json()["totalSize"] == 2
    assert api.query("SELECT Id FROM Account USING SCOPE mine").json() == {
        "totalSize": 0, "done": True, "records": []}


@pytest.mark.parametrize(("soql", "column", "detail"), [
    ("SELECT Id FROM Account USING SCOPE bogus", 16,
     "USING SCOPE bogus is not supported for Account by this server"),
    ("SELECT Id FROM Account USING SCOPE team", 16,
     "USING SCOPE team is not supported for Account by this server"),
    ("SELECT Id FROM User USING SCOPE mine", 16,
     "USING SCOPE mine is not supported for User by this server"),
])
def test_an_unknown_or_unsupported_scope_is_refused_exactly(bob: Api, soql: str, column: int,
                                                            detail: str) -> None:
    r = bob.query(soql)
    pointer = " " * (column - 1) + "^"
    assert (r.status_code, r.json()) == (400, [{
        "message": f"\n{soql}\n{pointer}\nERROR at Row:1:Column:{column}\n{detail}",
        "errorCode": "MALFORMED_QUERY"}])
