"""Input an attacker sends to break an org's reads (issue #20): each is refused with a 400 in
Salesforce's shape, and nothing poisoned is stored. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

DEAL = {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}


@pytest.mark.parametrize("raw", [b'{"Name": "Deal", "StageName": "Prospecting", '
                                 b'"CloseDate": "2026-12-31", "Amount": 1e400}',
                                 b'{"Name": "Deal", "StageName": "Prospecting", '
                                 b'"CloseDate": "2026-12-31", "Amount": 1e17}'])
def test_a_number_out_of_the_fields_range_is_refused(api, raw):
    response = api.client.post(api.url("/sobjects/Opportunity"), content=raw,
                               headers={**api.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"
    assert response.json()[0]["fields"] == ["Amount"]
    assert response.json()[0]["message"].startswith(
        "Amount: value outside of valid range on numeric field: ")
    assert api.query("SELECT Id, Amount FROM Opportunity").status_code == 200
    assert api.query("SELECT COUNT() FROM Opportunity").json()["totalSize"] == 0


def test_numbers_in_range_and_in_collections(api):
    ok = api.post("/sobjects/Opportunity", {**DEAL, "Amount": 9_999_999_999_999_999})
    assert ok.status_code == 201, ok.text
    many = api.post("/composite/sobjects", {"records": [
        {"attributes": {"type": "Account"}, "Name": "x", "NumberOfEmployees": 100_000_000}]})
    assert many.json()[0]["errors"][0]["statusCode"] == "NUMBER_OUTSIDE_VALID_RANGE"
    assert api.query("SELECT SUM(Amount) FROM Opportunity").status_code == 200


@pytest.mark.parametrize("raw", [b'{"Name": "\xff\xfe"}', b'{"Name": "\\ud800"}',
                                 b'{"Name": NaN}', b'{"Name": "x", "AnnualRevenue": Infinity}',
                                 b"[" * 100_000 + b"]" * 100_000,
                                 b'{"Name": "x", "NumberOfEmployees": ' + b"9" * 10_000_000
                                 + b"}"])
def test_malformed_json_is_a_parser_error(api, raw):
    response = api.client.post(api.url("/sobjects/Account"), content=raw,
                               headers={**api.headers, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


def test_a_date_literal_beyond_the_calendar_is_a_query_error(api):
    response = api.query("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:999999999999")
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"


@pytest.mark.parametrize("where", ["(" * 900 + "Name = 'a'" + ")" * 900,
                                   " OR ".join(["Name = 'a'"] * 3000),
                                   "NOT " * 900 + "Name = 'a'"])
def test_a_filter_too_deep_for_the_database_is_query_too_complicated(api, where):
    response = api.query(f"SELECT Id FROM Account WHERE {where}")
    assert (response.status_code, response.json()) == (400, [{
        "errorCode": "QUERY_TOO_COMPLICATED",
        "message": "Query is either selecting too many fields or the filter conditions are "
                   "too complicated."}])
    through_composite = api.post("/composite", {"compositeRequest": [{
        "method": "GET", "referenceId": "q",
        "url": "/services/data/v59.0/query?q=" + f"SELECT Id FROM Account WHERE {where}"}]})
    assert through_composite.json()["compositeResponse"][0]["httpStatusCode"] == 400


def test_a_filter_below_the_bounds_still_runs(api):
    api.post("/sobjects/Account", {"Name": "a"})
    where = " OR ".join(["Name = 'a'"] * 400)
    nested = "(" * 90 + "Name = 'a'" + ")" * 90
    for soql in (f"SELECT Id FROM Account WHERE {where}", f"SELECT Id FROM Account WHERE "
                                                          f"{nested}"):
        response = api.query(soql)
        assert (response.status_code, response.json()["totalSize"]) == (200, 1)


@pytest.mark.parametrize("path", ["recentItems.Id", "objectDescribe", "nothing.here", "x[9]"])
def test_a_composite_reference_into_the_wrong_shape_is_invalid_reference(api, path):
    """Found by the fuzz suite: a reference that walked into a list answered 500."""
    api.post("/sobjects/Account", {"Name": "a"})
    response = api.post("/composite", {"compositeRequest": [
        {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
         "referenceId": "a"},
        {"method": "GET", "url": f"/services/data/v59.0/sobjects/Account/@{{a.{path}}}",
         "referenceId": "b"}]})
    assert response.status_code == 200
    second = response.json()["compositeResponse"][1]
    assert (second["httpStatusCode"], second["body"]) == (400, [{
        "message": f"Invalid reference specified. No value for a.{path} found in a.",
        "errorCode": "INVALID_REFERENCE"}])


@pytest.mark.parametrize("sub", [{"method": "GET", "url": {"a": 1}, "referenceId": "a"},
                                 {"method": ["GET"], "url": "/services/data/v59.0/limits",
                                  "referenceId": "a"}, 7, ["GET"]])
def test_a_composite_subrequest_of_the_wrong_shape_is_a_parser_error(api, sub):
    """Found by schemathesis over docs/openapi.json: a subrequest whose url was an object
    answered 500."""
    response = api.post("/composite", {"compositeRequest": [sub]})
    assert (response.status_code, response.json()) == (400, [{
        "errorCode": "JSON_PARSER_ERROR",
        "message": "Each subrequest must be an object whose method and url are strings"}])


@pytest.mark.parametrize("path", ["/composite/sobjects", "/composite/sobjects/Account/Name"])
def test_a_collection_row_that_is_not_an_object_is_that_rows_error(api, path):
    """Found by schemathesis: a PATCH of collections with a number for a record answered
    500; the row fails, the others are still tried."""
    response = api.patch(path, {"records": [
        5, {"attributes": {"type": "Account"}, "Name": "fine", "id": "001000000000000AAA"}]})
    assert response.status_code == 200, response.text
    first = response.json()[0]
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == "JSON_PARSER_ERROR"
