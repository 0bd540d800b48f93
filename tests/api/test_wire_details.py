"""Wire details of the data API found wrong by an independent corpus (issue #19).

Each test asserts the exact status and body Salesforce answers, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

from localforce.data.values import FloatFree

LIMIT_INFO = re.compile(r"^api-usage=\d+/\d+$")



def test_error_responses_carry_sforce_limit_info(admin, api_as):
    api = api_as(admin)
    missing = api.get("/sobjects/Account/001000000000000AAA")
    bad_query = api.query("SELECT Nope FROM Account")

    assert missing.status_code == 404
    assert LIMIT_INFO.match(missing.headers["Sforce-Limit-Info"])
    assert bad_query.status_code == 400
    assert LIMIT_INFO.match(bad_query.headers["Sforce-Limit-Info"])


def test_an_unauthenticated_error_is_not_counted(client):
    response = client.get("/services/data/v59.0/sobjects/Account/001000000000000AAA",
                          headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "Sforce-Limit-Info" not in response.headers


def test_upsert_with_update_only_is_404_when_nothing_matches(services, org, admin, api_as):
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    api = api_as(admin)

    missing = api.patch("/sobjects/Account/Ext__c/A-1?updateOnly=true", {"Name": "Acme"})

    assert (missing.status_code, missing.json()) == (404, [{
        "errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0
    created = api.patch("/sobjects/Account/Ext__c/A-1", {"Name": "Acme"}).json()["id"]
    updated = api.patch("/sobjects/Account/Ext__c/A-1?updateOnly=true", {"Name": "Acme 2"})
    assert (updated.status_code, updated.json()) == (200, {
        "id": created, "success": True, "errors": [], "created": False})


def test_count_with_order_by_is_refused(admin, api_as):
    response = api_as(admin).query("SELECT COUNT() FROM Account ORDER BY Name")
    assert response.status_code == 400
    assert response.json() == [{
        "errorCode": "MALFORMED_QUERY",
        "message": "\nCOUNT() FROM Account ORDER BY Name\n"
                   "                              ^\n"
                   "ERROR at Row:1:Column:38\n"
                   "Ordered field must be grouped or aggregated: Name"}]


def test_aggregate_query_ordered_by_an_ungrouped_field_is_refused(admin, api_as):
    api = api_as(admin)
    refused = api.query("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry "
                        "ORDER BY Name")
    allowed = api.query("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry "
                        "ORDER BY Industry, COUNT(Id) DESC")
    assert refused.status_code == 400
    assert refused.json()[0]["message"].endswith(
        "Ordered field must be grouped or aggregated: Name")
    assert allowed.status_code == 200


def test_composite_get_subrequest_honours_fields(admin, api_as):
    api = api_as(admin)
    rid = api.post("/sobjects/Account", {"Name": "Acme", "Phone": "555"}).json()["id"]

    response = api.post("/composite", {"compositeRequest": [{
        "method": "GET", "referenceId": "acct",
        "url": f"/services/data/v59.0/sobjects/Account/{rid}?fields=Name,Phone"}]})

    assert response.status_code == 200
    body = response.json()["compositeResponse"][0]
    assert body["httpStatusCode"] == 200
    assert body["body"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{rid}"},
        "Name": "Acme", "Phone": "555"}


def test_composite_upsert_subrequest_honours_update_only(services, org, admin, api_as):
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    response = api_as(admin).post("/composite", {"compositeRequest": [{
        "method": "PATCH", "referenceId": "up", "body": {"Name": "Acme"},
        "url": "/services/data/v59.0/sobjects/Account/Ext__c/A-9?updateOnly=true"}]})
    assert response.json()["compositeResponse"][0]["httpStatusCode"] == 404


def test_all_or_none_rolled_back_rows_carry_no_id(admin, api_as):
    api = api_as(admin)
    response = api.post("/composite/sobjects", {"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "Kept?"},
        {"attributes": {"type": "Account"}}]})

    assert response.status_code == 200
    assert response.json() == [
        {"success": False, "errors": [{
            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the "
                       "request was using AllOrNone header", "fields": []}]},
        {"success": False, "errors": [{
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Name]", "fields": ["Name"]}]}]
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


def test_a_text_plain_body_is_415(admin, api_as):
    api = api_as(admin)
    response = api.client.post(api.url("/sobjects/Account"), content=b'{"Name": "Acme"}',
                               headers={**api.headers, "Content-Type": "text/plain"})
    assert (response.status_code, response.json()) == (415, [{
        "errorCode": "UNSUPPORTED_MEDIA_TYPE",
        "message": "MediaType of 'text/plain' is not supported by this resource"}])
    assert LIMIT_INFO.match(response.headers["Sforce-Limit-Info"])
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


def test_json_with_a_charset_and_no_content_type_are_accepted(admin, api_as):
    api = api_as(admin)
    for headers in ({"Content-Type": "application/json; charset=UTF-8"}, {}):
        response = api.client.post(api.url("/sobjects/Account"), content=b'{"Name": "Acme"}',
                                   headers={**api.headers, **headers})
        assert response.status_code == 201, response.text


def test_a_query_of_text_fields_is_float_free_and_one_of_a_currency_is_not(
        services, admin, api_as):
    """The data layer says which answers hold no float (the encoder then skips its walk for
    them); a currency field's float is still spelled as the standard library spells it."""
    api = api_as(admin)
    record_id = api.post("/sobjects/Account", {"Name": "Acme", "AnnualRevenue": 1e16}).json()["id"]
    texts = services.data.queries.query(admin, "SELECT Id, Name FROM Account", "62.0")
    money = services.data.queries.query(admin, "SELECT Id, AnnualRevenue FROM Account", "62.0")
    parent = services.data.queries.query(admin, "SELECT Id, Owner.Name FROM Account", "62.0")

    assert type(texts) is FloatFree
    assert type(money) is dict and type(parent) is dict  # a parent's fields: not looked at
    answer = api.query("SELECT Id, AnnualRevenue FROM Account")
    url = api.url(f"/sobjects/Account/{record_id}")
    assert answer.content == (
        b'{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","url":"'
        + url.encode() + b'"},"Id":"' + record_id.encode() + b'","AnnualRevenue":1e+16}]}')
