"""SOSL ``/search`` and ``/parameterizedSearch`` (issue #14) on SQLite FTS5 and PostgreSQL
full-text indexes: the ``searchRecords`` shape, scopes, term syntax, RETURNING clauses, rights
and each error code."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

V = "/services/data/v59.0/sobjects"


@pytest.fixture
def world(api):
    made = {}
    for name, city in (("Ölwerk GmbH", "Zürich"), ("Acme Corp", "Paris"),
                       ("Acme Widgets", "Berlin"), ("Globex", "Acme Springs")):
        made[name] = api.post("/sobjects/Account", {"Name": name, "BillingCity": city}
                              ).json()["id"]
    made["ada"] = api.post("/sobjects/Contact", {
        "FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@acme.example"}).json()["id"]
    return made


def search(api, sosl):
    return api.get("/search", params={"q": sosl})


def names(body):
    return [(r["attributes"]["type"], r.get("Name")) for r in body["searchRecords"]]


def test_find_returning_fields_where_order_limit(api, world):
    r = search(api, "FIND {acme} RETURNING Account(Id, Name ORDER BY Name DESC), Contact(Name)")
    assert r.status_code == 200
    assert names(r.json()) == [("Account", "Globex"), ("Account", "Acme Widgets"),
                               ("Account", "Acme Corp"), ("Contact", "Ada Lovelace")]
    first = r.json()["searchRecords"][0]
    assert first == {"attributes": {"type": "Account",
                                    "url": f"{V}/Account/{world['Globex']}"},
                     "Id": world["Globex"], "Name": "Globex"}
    narrowed = search(api, "FIND {acme} IN NAME FIELDS RETURNING Account(Name WHERE "
                           "BillingCity != 'Berlin' LIMIT 5)").json()
    assert names(narrowed) == [("Account", "Acme Corp")]
    limited = search(api, "FIND {acme} RETURNING Account(Name ORDER BY Name), Contact "
                          "LIMIT 2").json()
    assert names(limited) == [("Account", "Acme Corp"), ("Account", "Acme Widgets")]


def test_term_syntax_case_wildcards_phrases_operators(api, world):
    def found(term, scope="ALL"):
        body = search(api, f"FIND {{{term}}} IN {scope} FIELDS RETURNING Account(Name "
                           "ORDER BY Name)").json()
        return [n for _, n in names(body)]

    assert found("ölwerk") == ["Ölwerk GmbH"]  # beyond ASCII, either case
    assert found("ZÜRICH") == ["Ölwerk GmbH"]
    assert found("wid*") == ["Acme Widgets"]
    assert found('"acme corp"') == ["Acme Corp"]
    assert found("acme AND NOT widgets") == ["Acme Corp", "Globex"]
    assert found("globex OR gmbh") == ["Globex", "Ölwerk GmbH"]
    assert found("acme paris") == ["Acme Corp"]  # words side by side: all of them
    assert found("acme", "NAME") == ["Acme Corp", "Acme Widgets"]
    email = search(api, "FIND {ada@acme.example} IN EMAIL FIELDS RETURNING Contact(Email)")
    assert [r["Email"] for r in email.json()["searchRecords"]] == ["ada@acme.example"]


def test_without_returning_ids_of_every_object_and_deleted_rows_gone(api, world):
    body = search(api, "FIND {acme}").json()
    assert sorted((r["attributes"]["type"], r["Id"]) for r in body["searchRecords"]) == sorted(
        [("Account", world[n]) for n in ("Acme Corp", "Acme Widgets", "Globex")]
        + [("Contact", world["ada"])])
    assert all(set(r) == {"attributes", "Id"} for r in body["searchRecords"])
    assert api.delete(f"/sobjects/Account/{world['Globex']}").status_code == 204
    assert api.patch(f"/sobjects/Account/{world['Acme Corp']}", {"Name": "Initech"}
                     ).status_code == 204
    after = search(api, "FIND {acme} IN NAME FIELDS RETURNING Account(Name)").json()
    assert names(after) == [("Account", "Acme Widgets")]
    renamed = search(api, "FIND {initech} RETURNING Account(Name)").json()
    assert names(renamed) == [("Account", "Initech")]


def test_parameterized_search_get_and_post(api, world):
    got = api.get("/parameterizedSearch", params={
        "q": "acme", "sobject": "Account", "Account.fields": "Id,Name",
        "Account.where": "BillingCity = 'Paris'", "Account.limit": "10"})
    assert got.status_code == 200
    assert names(got.json()) == [("Account", "Acme Corp")]
    posted = api.post("/parameterizedSearch", {
        "q": "acme", "in": "ALL", "fields": ["Name"], "overallLimit": 10,
        "sobjects": [{"name": "Account", "where": "BillingCity = 'Berlin'", "limit": 5},
                     {"name": "Contact"}]})
    assert posted.status_code == 200
    assert names(posted.json()) == [("Account", "Acme Widgets"), ("Contact", "Ada Lovelace")]
    narrow = api.post("/parameterizedSearch", {"q": "acme", "in": "NAME", "sobjects": [
        {"name": "Contact", "fields": ["Name"]}]})
    assert narrow.json() == {"searchRecords": []}
    missing = api.get("/parameterizedSearch")
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "INVALID_SEARCH"


@pytest.mark.parametrize(("sosl", "status", "code", "message"), [
    ("FIND acme", 400, "MALFORMED_SEARCH",
     "No search term found. The search term must be enclosed in braces."),
    ("FIND {acme} RETURNING", 400, "MALFORMED_SEARCH",
     "\nFIND {acme} RETURNING\n                    ^\nERROR at Row:1:Column:21\n"
     "unexpected token: '<EOF>'"),
    ("FIND {acme} IN BODY FIELDS", 400, "MALFORMED_SEARCH",
     "\nFIND {acme} IN BODY FIELDS\n              ^\nERROR at Row:1:Column:15\n"
     "unexpected token: 'BODY'"),
    ("FIND {(acme}", 400, "MALFORMED_SEARCH", "mismatched parentheses in the search term"),
    ("FIND {a}", 400, "INVALID_SEARCH", "search term must be longer than one character"),
    ("FIND {acme} RETURNING Account(Nope)", 400, "INVALID_FIELD",
     "\nFIND {acme} RETURNING Account(Nope)\n                              ^\n"
     "ERROR at Row:1:Column:31\nNo such column 'Nope' on entity 'Account'. If you are "
     "attempting to use a custom field, be sure to append the '__c' after the custom field "
     "name. Please reference your WSDL or the describe call for the appropriate names."),
    ("FIND {acme} RETURNING Nothing__c", 400, "INVALID_TYPE", None),
])
def test_errors(api, world, sosl, status, code, message):
    r = search(api, sosl)
    assert r.status_code == status
    [error] = r.json()
    assert error["errorCode"] == code
    if message is not None:
        assert error["message"] == message


def test_an_object_the_user_cannot_read_is_not_searched(make_user, api_as, world):
    reader = api_as(make_user(grants={"Contact": ["read"]}))
    body = search(reader, "FIND {acme}").json()
    assert {r["attributes"]["type"] for r in body["searchRecords"]} == {"Contact"}
    denied = search(reader, "FIND {acme} RETURNING Account")
    assert denied.status_code == 400 and denied.json()[0]["errorCode"] == "INVALID_TYPE"


def test_custom_objects_and_fields_are_searched(services, org, api, world):
    services.data.declare(org.id, {"name": "Gizmo__c", "label": "Gizmo", "fields": [
        {"name": "Motto__c", "type": "Text", "length": 80}]})
    gizmo = api.post("/sobjects/Gizmo__c", {"Name": "G-1", "Motto__c": "acme forever"}
                     ).json()["id"]
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Slogan__c", "type": "Text", "length": 80}]})  # rebuilds Account's index
    assert api.patch(f"/sobjects/Account/{world['Globex']}", {"Slogan__c": "zeppelins"}
                     ).status_code == 204
    body = search(api, "FIND {zeppelins OR forever} RETURNING Account(Id), "
                       "Gizmo__c(Id, Motto__c)").json()
    assert [(r["attributes"]["type"], r["Id"]) for r in body["searchRecords"]] == [
        ("Account", world["Globex"]), ("Gizmo__c", gizmo)]
    assert names(search(api, "FIND {ölwerk} RETURNING Account(Name)").json()) == [
        ("Account", "Ölwerk GmbH")]  # rows from before the rebuild are indexed again


def test_records_a_bulk_job_inserts_are_found_as_soon_as_it_commits(services, api, world):
    """The index is filled in the transaction that inserts the rows (one statement per Bulk
    transaction on SQLite): no record is ever committed and not yet searchable."""
    from tests.api.test_bulk_ingest import run_job

    services.bulk.runner.rows_per_transaction = 7  # several transactions, a partial last one
    data = "Name,BillingCity\n" + "".join(f"Zeppelin {n:02d},Lakehurst\n" for n in range(20))
    info = run_job(services, api, "insert", data)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (20, 0)
    body = search(api, "FIND {zeppelin} RETURNING Account(Name ORDER BY Name)").json()
    assert [n for _, n in names(body)] == [f"Zeppelin {n:02d}" for n in range(20)]
    one = api.post("/sobjects/Account", {"Name": "Zeppelin 99"}).json()["id"]  # REST, too
    found = search(api, "FIND {lakehurst OR zeppelin} RETURNING Account(Id)").json()
    assert len(found["searchRecords"]) == 21 and one in {
        r["Id"] for r in found["searchRecords"]}
    assert names(search(api, "FIND {ölwerk} RETURNING Account(Name)").json()) == [
        ("Account", "Ölwerk GmbH")]  # the rows from before are still there once


def test_a_bulk_insert_indexes_each_searchable_field_its_rows_set(services, api, world):
    """The fill of a Bulk transaction reads only the searchable columns some row of it set
    (the others are null): each row is found by every field it set, in its group, and a later
    update of a field the insert left out adds its words and keeps the others."""
    from tests.api.test_bulk_ingest import run_job

    data = ("Name,Site,Phone\n"
            "Kestrel One,,\n"
            "Kestrel Two,harbourside,\n"
            "Kestrel Three,,555 0199\n")
    info = run_job(services, api, "insert", data)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 0)
    assert names(search(api, "FIND {kestrel} RETURNING Account(Name ORDER BY Name)").json()
                 ) == [("Account", "Kestrel One"), ("Account", "Kestrel Three"),
                       ("Account", "Kestrel Two")]
    assert names(search(api, "FIND {harbourside} RETURNING Account(Name)").json()) == [
        ("Account", "Kestrel Two")]
    assert names(search(api, "FIND {0199} IN PHONE FIELDS RETURNING Account(Name)").json()
                 ) == [("Account", "Kestrel Three")]
    assert search(api, "FIND {harbourside} IN PHONE FIELDS RETURNING Account(Name)"
                  ).json()["searchRecords"] == []
    one = api.query("SELECT Id FROM Account WHERE Name = 'Kestrel One'").json()
    record_id = one["records"][0]["Id"]
    assert api.patch(f"/sobjects/Account/{record_id}", {"Description": "osprey nest"}
                     ).status_code == 204
    assert names(search(api, "FIND {osprey AND kestrel} RETURNING Account(Name)").json()) == [
        ("Account", "Kestrel One")]
