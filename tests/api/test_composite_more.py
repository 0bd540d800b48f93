"""``/composite/tree/{type}``, ``/composite/graph`` and ``/composite/batch`` (issue #14): exact
answers, all-or-none rollback, reference ids and each error code."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

V = "/services/data/v59.0"


def count(api, soql):
    return api.query(soql).json()["totalSize"]


def account(ref, name, *contacts, **extra):
    record = {"attributes": {"type": "Account", "referenceId": ref}, "Name": name, **extra}
    if contacts:
        record["Contacts"] = {"records": [
            {"attributes": {"type": "Contact", "referenceId": r}, "LastName": n}
            for r, n in contacts]}
    return record


def test_tree_creates_parents_then_children_with_lookups(api):
    r = api.post("/composite/tree/Account", {"records": [
        account("ref1", "Tree One", ("ref2", "Ng"), ("ref3", "Oh")),
        account("ref4", "Tree Two")]})
    assert r.status_code == 201
    body = r.json()
    assert body["hasErrors"] is False
    assert [x["referenceId"] for x in body["results"]] == ["ref1", "ref4", "ref2", "ref3"]
    ids = {x["referenceId"]: x["id"] for x in body["results"]}
    rows = api.query("SELECT LastName, AccountId FROM Contact ORDER BY LastName").json()
    assert [(c["LastName"], c["AccountId"]) for c in rows["records"]] == [
        ("Ng", ids["ref1"]), ("Oh", ids["ref1"])]


def test_tree_failure_keeps_nothing_and_names_the_record(api):
    r = api.post("/composite/tree/Account", {"records": [
        account("ok", "Fine", ("bad", None))]})
    assert r.status_code == 400
    assert r.json() == {"hasErrors": True, "results": [{"referenceId": "bad", "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]}]}
    assert count(api, "SELECT Id FROM Account") == 0


@pytest.mark.parametrize(("body", "status", "answer"), [
    ({"records": [account("dup", "A"), account("dup", "B")]}, 400, {
        "hasErrors": True, "results": [{"referenceId": "dup", "errors": [{
            "statusCode": "INVALID_INPUT", "fields": [],
            "message": "Duplicate ReferenceId provided in the request"}]}] * 2}),
    ({"records": [{"attributes": {"type": "Account"}, "Name": "No ref"}]}, 400, {
        "hasErrors": True, "results": [{"referenceId": None, "errors": [{
            "statusCode": "INVALID_INPUT", "fields": [],
            "message": "Include a reference ID for each record in the request"}]}]}),
    ({"records": [account(f"r{n}", f"N{n}") for n in range(201)]}, 400, [{
        "errorCode": "LIMIT_EXCEEDED",
        "message": "Exceeded the maximum of 200 records in an sObject tree request"}]),
    ({"records": [account("x", "X", Nope__c=1)]}, 400, [{
        "errorCode": "INVALID_FIELD",
        "message": "No such column 'Nope__c' on sobject of type Account"}]),
    ({"records": [{"attributes": {"type": "Contact", "referenceId": "c"}, "LastName": "X"}]},
     400, [{"errorCode": "INVALID_INPUT",
            "message": "The record type 'Contact' does not match the type Account expected "
                       "here"}]),
])
def test_tree_errors(api, body, status, answer):
    r = api.post("/composite/tree/Account", body)
    assert (r.status_code, r.json()) == (status, answer)


def test_graphs_are_all_or_none_each(api):
    def create(ref, name):
        return {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": ref,
                "body": {"Name": name}}

    r = api.post("/composite/graph", {"graphs": [
        {"graphId": "good", "compositeRequest": [
            create("a", "Graph A"),
            {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "c",
             "body": {"LastName": "Kid", "AccountId": "@{a.id}"}}]},
        {"graphId": "bad", "compositeRequest": [
            create("b", "Graph B"),
            {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "d",
             "body": {"FirstName": "No last name"}}]}]})
    assert r.status_code == 200
    good, bad = r.json()["graphs"]
    assert (good["graphId"], good["isSuccessful"]) == ("good", True)
    assert [x["httpStatusCode"] for x in good["graphResponse"]["compositeResponse"]] == [201, 201]
    assert (bad["graphId"], bad["isSuccessful"]) == ("bad", False)
    halted, failed = bad["graphResponse"]["compositeResponse"]
    assert halted["httpStatusCode"] == 400
    assert halted["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert failed["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    names = api.query("SELECT Name FROM Account").json()["records"]
    assert [a["Name"] for a in names] == ["Graph A"]
    dup = api.post("/composite/graph", {"graphs": [
        {"graphId": "g", "compositeRequest": []}, {"graphId": "g", "compositeRequest": []}]})
    assert (dup.status_code, dup.json()[0]["errorCode"]) == (400, "INVALID_INPUT")
    empty = api.post("/composite/graph", {"graphs": []})
    assert (empty.status_code, empty.json()[0]["errorCode"]) == (400, "INVALID_INPUT")


def test_batch_runs_independently_and_halts_on_request(api):
    made = api.post("/sobjects/Account", {"Name": "Batched"}).json()["id"]
    requests = [
        {"method": "PATCH", "url": f"v59.0/sobjects/Account/{made}",
         "richInput": {"Name": "Batched 2"}},
        {"method": "GET", "url": "v59.0/sobjects/Account/001000000000000AAA"},
        {"method": "GET", "url": f"v59.0/query?q=SELECT+Name+FROM+Account+WHERE+Id='{made}'"}]
    r = api.post("/composite/batch", {"batchRequests": requests})
    assert r.status_code == 200
    body = r.json()
    assert body["hasErrors"] is True
    assert [x["statusCode"] for x in body["results"]] == [204, 404, 200]
    assert body["results"][0]["result"] is None
    assert body["results"][1]["result"][0]["errorCode"] == "NOT_FOUND"
    assert body["results"][2]["result"]["records"][0]["Name"] == "Batched 2"
    halted = api.post("/composite/batch", {"haltOnError": True, "batchRequests": requests[1:]})
    assert halted.json() == {"hasErrors": True, "results": [
        {"statusCode": 404, "result": body["results"][1]["result"]},
        {"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED",
                                        "message": "Batch processing halted per request"}]}]}
    too_many = api.post("/composite/batch", {"batchRequests": requests * 9})
    assert (too_many.status_code, too_many.json()[0]["errorCode"]) == (400, "LIMIT_EXCEEDED")
