"""Platform behaviour on write (issue #19): derived fields, cascade delete, parent references
by external id and field validation, each through the REST API on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)


@pytest.fixture
def ext_id(services, org):
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})


def one(api, soql):
    response = api.query(soql)
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json()["records"][0].items() if k != "attributes"}


# -- derived fields ---------------------------------------------------------------------------

OPPORTUNITY_FIELDS = "StageName, IsClosed, IsWon, Probability, ForecastCategoryName, " \
                     "ForecastCategory"


def test_opportunity_stage_sets_closed_won_probability_and_forecast(api):
    rid = api.post("/sobjects/Opportunity", {"Name": "Deal", "StageName": "Prospecting",
                                             "CloseDate": "2026-12-31"}).json()["id"]
    soql = f"SELECT {OPPORTUNITY_FIELDS} FROM Opportunity WHERE Id = '{rid}'"
    assert one(api, soql) == {"StageName": "Prospecting", "IsClosed": False, "IsWon": False,
                              "Probability": 10.0, "ForecastCategoryName": "Pipeline",
                              "ForecastCategory": "Pipeline"}

    assert api.patch(f"/sobjects/Opportunity/{rid}", {"StageName": "Closed Won"}).status_code \
        == 204
    assert one(api, soql) == {"StageName": "Closed Won", "IsClosed": True, "IsWon": True,
                              "Probability": 100.0, "ForecastCategoryName": "Closed",
                              "ForecastCategory": "Closed"}

    api.patch(f"/sobjects/Opportunity/{rid}", {"StageName": "Closed Lost"})
    assert one(api, soql) == {"StageName": "Closed Lost", "IsClosed": True, "IsWon": False,
                              "Probability": 0.0, "ForecastCategoryName": "Omitted",
                              "ForecastCategory": "Omitted"}


def test_an_explicit_probability_and_forecast_win_over_the_stage_defaults(api):
    rid = api.post("/sobjects/Opportunity", {
        "Name": "Deal", "StageName": "Negotiation/Review", "CloseDate": "2026-12-31",
        "Probability": 35, "ForecastCategoryName": "Commit"}).json()["id"]
    got = one(api, f"SELECT {OPPORTUNITY_FIELDS} FROM Opportunity WHERE Id = '{rid}'")
    assert (got["Probability"], got["ForecastCategoryName"], got["ForecastCategory"]) == (
        35.0, "Commit", "Forecast")
    # A write that does not touch the stage keeps them.
    api.patch(f"/sobjects/Opportunity/{rid}", {"Name": "Renamed"})
    got = one(api, f"SELECT {OPPORTUNITY_FIELDS} FROM Opportunity WHERE Id = '{rid}'")
    assert (got["Probability"], got["IsClosed"]) == (35.0, False)


def test_derived_fields_are_read_only(api):
    response = api.post("/sobjects/Opportunity", {"Name": "Deal", "StageName": "Prospecting",
                                                  "CloseDate": "2026-12-31", "IsWon": True})
    assert (response.status_code, response.json()[0]["errorCode"]) == (
        400, "INVALID_FIELD_FOR_INSERT_UPDATE")


def test_task_is_closed_follows_its_status(api):
    rid = api.post("/sobjects/Task", {"Subject": "Call", "Status": "Not Started"}).json()["id"]
    assert one(api, f"SELECT IsClosed FROM Task WHERE Id = '{rid}'") == {"IsClosed": False}
    api.patch(f"/sobjects/Task/{rid}", {"Status": "Completed"})
    assert one(api, f"SELECT IsClosed FROM Task WHERE Id = '{rid}'") == {"IsClosed": True}
    closed = api.query("SELECT COUNT() FROM Task WHERE IsClosed = true").json()
    assert closed["totalSize"] == 1


def test_event_activity_date_comes_from_its_start(api):
    rid = api.post("/sobjects/Event", {"Subject": "Demo", "DurationInMinutes": 30,
                                       "ActivityDateTime": "2026-03-04T22:30:00Z"}).json()["id"]
    assert one(api, f"SELECT ActivityDate FROM Event WHERE Id = '{rid}'") == {
        "ActivityDate": "2026-03-04"}
    api.patch(f"/sobjects/Event/{rid}", {"ActivityDateTime": "2026-05-06T10:00:00.000+0000"})
    assert one(api, f"SELECT ActivityDate FROM Event WHERE Id = '{rid}'") == {
        "ActivityDate": "2026-05-06"}


# -- cascade delete -----------------------------------------------------------------------------


def test_deleting_an_account_deletes_its_contacts_opportunities_cases_and_activities(api):
    account = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    other = api.post("/sobjects/Account", {"Name": "Other"}).json()["id"]
    contact = api.post("/sobjects/Contact", {"LastName": "Ada", "AccountId": account}).json()
    opportunity = api.post("/sobjects/Opportunity", {
        "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31",
        "AccountId": account}).json()
    case = api.post("/sobjects/Case", {"Subject": "Broken", "AccountId": account}).json()
    task = api.post("/sobjects/Task", {"Subject": "Call", "WhatId": opportunity["id"]}).json()
    kept = api.post("/sobjects/Contact", {"LastName": "Kept", "AccountId": other}).json()

    assert api.delete(f"/sobjects/Account/{account}").status_code == 204

    for sobject, row in (("Contact", contact), ("Opportunity", opportunity), ("Case", case),
                         ("Task", task)):
        assert api.get(f"/sobjects/{sobject}/{row['id']}").status_code == 404, sobject
        every = api.client.get(api.url("/queryAll"), headers=api.headers, params={
            "q": f"SELECT IsDeleted FROM {sobject} WHERE Id = '{row['id']}'"}).json()
        assert every["records"][0]["IsDeleted"] is True, sobject
    assert api.get(f"/sobjects/Contact/{kept['id']}").status_code == 200
    assert api.get(f"/sobjects/Account/{other}").status_code == 200


# -- parent references by external id ----------------------------------------------------------


def test_a_parent_reference_by_external_id_sets_the_lookup(api, ext_id):
    account = api.post("/sobjects/Account", {"Name": "Acme", "Ext__c": "A-1"}).json()["id"]

    created = api.post("/sobjects/Contact", {"LastName": "Ada", "Account": {"Ext__c": "a-1"}})
    assert created.status_code == 201, created.text
    contact = created.json()["id"]
    assert one(api, f"SELECT AccountId FROM Contact WHERE Id = '{contact}'") == {
        "AccountId": account}

    second = api.post("/sobjects/Account", {"Name": "Beta", "Ext__c": "B-2"}).json()["id"]
    assert api.patch(f"/sobjects/Contact/{contact}",
                     {"Account": {"Ext__c": "B-2"}}).status_code == 204
    assert one(api, f"SELECT AccountId FROM Contact WHERE Id = '{contact}'") == {
        "AccountId": second}


def test_parent_references_in_collections_and_upsert(api, ext_id):
    account = api.post("/sobjects/Account", {"Name": "Acme", "Ext__c": "A-1"}).json()["id"]
    response = api.post("/composite/sobjects", {"records": [
        {"attributes": {"type": "Contact"}, "LastName": "One", "Account": {"Ext__c": "A-1"}},
        {"attributes": {"type": "Contact"}, "LastName": "Two", "Account": {"Ext__c": "none"}}]})
    assert [r["success"] for r in response.json()] == [True, False]
    count = api.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{account}'").json()
    assert count["totalSize"] == 1


def test_parent_reference_errors(api, ext_id):
    api.post("/sobjects/Account", {"Name": "Acme", "Ext__c": "DUP"})
    api.post("/sobjects/Account", {"Name": "Acme 2", "Ext__c": "DUP"})
    cases = [
        ({"Ext__c": "missing"}, "INVALID_FIELD", "Foreign key external ID: missing not found "
                                                 "for field Ext__c in entity Account"),
        ({"Ext__c": "DUP"}, "DUPLICATE_EXTERNAL_ID", "Foreign key external ID: DUP matched "
                                                     "more than one record for field Ext__c "
                                                     "in entity Account"),
        ({"Name": "Acme"}, "INVALID_FIELD", "Field name provided, Name is not an External ID "
                                            "or indexed field for Account"),
    ]
    for reference, code, message in cases:
        response = api.post("/sobjects/Contact", {"LastName": "Ada", "Account": reference})
        assert (response.status_code, response.json()) == (400, [{
            "errorCode": code, "message": message, "fields": ["AccountId"]}]), reference
    assert api.query("SELECT COUNT() FROM Contact").json()["totalSize"] == 0


def test_a_polymorphic_parent_reference_names_its_type(api, ext_id):
    account = api.post("/sobjects/Account", {"Name": "Acme", "Ext__c": "A-1"}).json()["id"]
    task = api.post("/sobjects/Task", {"Subject": "Call", "What": {
        "attributes": {"type": "Account"}, "Ext__c": "A-1"}})
    assert task.status_code == 201, task.text
    assert one(api, f"SELECT WhatId FROM Task WHERE Id = '{task.json()['id']}'") == {
        "WhatId": account}


# -- validation ------------------------------------------------------------------------------


def test_an_invalid_email_address_is_refused(api):
    response = api.post("/sobjects/Contact", {"LastName": "Ada", "Email": "not-an-email"})
    assert (response.status_code, response.json()) == (400, [{
        "errorCode": "INVALID_EMAIL_ADDRESS", "message": "Email: invalid email address: "
                                                         "not-an-email", "fields": ["Email"]}])
    ok = api.post("/sobjects/Contact", {"LastName": "Ada", "Email": "ada@example.com"})
    assert ok.status_code == 201


def test_a_value_outside_a_restricted_picklist_is_refused(services, org, api):
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Tier__c", "type": "Picklist", "values": ["Gold", "Silver"],
         "restricted": True}]})
    response = api.post("/sobjects/Account", {"Name": "Acme", "Tier__c": "Bronze"})
    assert (response.status_code, response.json()) == (400, [{
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "message": "Tier: bad value for restricted picklist field: Bronze",
        "fields": ["Tier__c"]}])
