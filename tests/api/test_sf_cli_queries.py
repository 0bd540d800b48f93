"""What ``sf`` asks after every login and for ``sf data query`` (clients.md §3): the
ScratchOrgInfo probe, the Organization row, the Tooling query for sandboxes, and
``/query?q=…&columns=true`` column metadata — through the ASGI app with real tokens."""

from __future__ import annotations

from typing import Any

V = "59.0"
INVALID_TYPE = ("sObject type '{}' is not supported. If you are attempting to use a custom "
                "object, be sure to append the '__c' after the entity name. Please reference "
                "your WSDL or the describe call for the appropriate names.")


def shape(column: dict[str, Any]) -> tuple[Any, ...]:
    """What sf's retrieveColumns reads from a column, recursively."""
    return (column["columnName"], column["displayName"], column["aggregate"],
            [shape(c) for c in column["joinColumns"]])


def test_scratch_org_info_probe_is_invalid_type(admin, api_as):
    # sf marks the org a Dev Hub when this answers below 400 (authInfo.determineIfDevHub).
    r = api_as(admin).query("SELECT Id FROM ScratchOrgInfo limit 1")
    assert r.status_code == 400
    assert r.json() == [{"errorCode": "INVALID_TYPE", "message": (
        "\nSELECT Id FROM ScratchOrgInfo limit 1\n               ^\nERROR at Row:1:Column:16\n"
        + INVALID_TYPE.format("ScratchOrgInfo"))}]


def test_organization_query_returns_exactly_one_row(admin, api_as, org):
    r = api_as(admin).query("SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, "
                            "NamespacePrefix, OrganizationType FROM Organization")
    assert r.status_code == 200
    assert r.json() == {"totalSize": 1, "done": True, "records": [{
        "attributes": {"type": "Organization",
                       "url": f"/services/data/v{V}/sobjects/Organization/{org.id}"},
        "Name": "Acme", "InstanceName": "LOCAL", "IsSandbox": False,
        "TrialExpirationDate": None, "NamespacePrefix": None,
        "OrganizationType": "Developer Edition"}]}


def test_tooling_query_answers_invalid_type_and_other_tooling_paths_404(admin, api_as):
    api = api_as(admin)
    soql = ("SELECT Id,Status,SandboxName FROM SandboxProcess WHERE "
            "SandboxOrganization='00D000000000001' ORDER BY CreatedDate DESC")
    r = api.get("/tooling/query/", params={"q": soql})
    assert r.status_code == 400
    assert r.json() == [{"errorCode": "INVALID_TYPE", "message": (
        "\nSELECT Id,Status,SandboxName FROM SandboxProcess WHERE\n"
        "                                  ^\nERROR at Row:1:Column:35\n"
        + INVALID_TYPE.format("SandboxProcess"))}]
    malformed = api.get("/tooling/query", params={"q": "SELEKT Id FROM ApexClass"})
    assert (malformed.status_code, malformed.json()[0]["errorCode"]) == (400, "MALFORMED_QUERY")
    other = api.get("/tooling/sobjects")
    assert (other.status_code, other.json()) == (404, [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])


def test_tooling_requires_a_session(client):
    r = client.get(f"/services/data/v{V}/tooling/query", params={"q": "SELECT Id FROM X"})
    assert (r.status_code, r.json()) == (401, [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def test_columns_for_fields_parent_paths_and_subqueries(admin, api_as):
    api = api_as(admin)
    r = api.get("/query", params={"q": "SELECT Id, Name, Owner.Name, Owner.Profile.Name, "
                                       "(SELECT LastName FROM Contacts) FROM Account",
                                  "columns": "true"})
    assert r.status_code == 200
    body = r.json()
    assert {k: v for k, v in body.items() if k != "columnMetadata"} == {
        "entityName": "Account", "groupBy": False, "idSelected": True, "keyPrefix": "001"}
    assert [shape(c) for c in body["columnMetadata"]] == [
        ("Id", "Id", False, []),
        ("Name", "Name", False, []),
        ("Owner", "Owner", False, [("Name", "Owner.Name", False, []),
                                   ("Profile", "Owner.Profile", False, [
                                       ("Name", "Owner.Profile.Name", False, [])])]),
        ("Contacts", "Contacts", True, [("LastName", "LastName", False, [])])]
    assert body["columnMetadata"][1] == {
        "aggregate": False, "apexType": "String", "booleanType": False, "columnName": "Name",
        "custom": False, "displayName": "Name", "foreignKeyName": None, "insertable": True,
        "joinColumns": [], "numberType": False, "textType": True, "updatable": True}
    assert "records" not in body  # the statement is checked, not run


def test_columns_for_aggregates_and_count(admin, api_as):
    api = api_as(admin)
    r = api.get("/query", params={"q": "SELECT Industry, COUNT(Id), MAX(NumberOfEmployees) top, "
                                       "CALENDAR_YEAR(CreatedDate) FROM Account GROUP BY "
                                       "Industry, CALENDAR_YEAR(CreatedDate)",
                                  "columns": "true"})
    body = r.json()
    assert (r.status_code, body["groupBy"], body["idSelected"]) == (200, True, False)
    assert [shape(c) + (c["apexType"],) for c in body["columnMetadata"]] == [
        ("Industry", "Industry", False, [], "String"),
        ("expr0", "COUNT(Id)", True, [], "Integer"),
        ("top", "MAX(NumberOfEmployees)", True, [], "Integer"),
        ("expr1", "CALENDAR_YEAR(CreatedDate)", True, [], "Integer")]
    count = api.get("/query", params={"q": "SELECT COUNT() FROM Account", "columns": "true"})
    assert count.json() == {"columnMetadata": [], "entityName": "Account", "groupBy": False,
                            "idSelected": False, "keyPrefix": "001"}


def test_columns_reports_query_errors_like_query(admin, api_as):
    api = api_as(admin)
    r = api.get("/query", params={"q": "SELECT Nope__c FROM Account", "columns": "true"})
    assert (r.status_code, r.json()[0]["errorCode"]) == (400, "INVALID_FIELD")
