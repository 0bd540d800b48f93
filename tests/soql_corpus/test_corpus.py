"""A SOQL corpus against seeded data, grouped by feature: each query asserts the exact
records (by Name, in order) or the exact count, or Salesforce's error code and text."""

from __future__ import annotations

from typing import Any

import pytest

from localforce.data.errors import ApiError
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal

V = "59.0"
ACCOUNTS = [  # Name, Industry, NumberOfEmployees, AnnualRevenue, Rating
    ("Acme", "Energy", 100, 1000.0, "Hot"), ("Burlington", "Apparel", 50, None, "Warm"),
    ("Edge", "Electronics", None, 300.5, None), ("Global Media", "Media", 500, 5000.0, "Hot"),
    ("United Oil", "Energy", 1000, 9000.0, "Cold"), ("acme labs", None, 5, 10.0, None),
]
CONTACTS = [("Ada", "Lovelace", "Acme"), ("Bob", "Smith", "Acme"), ("Cy", "Young", "Edge"),
            ("Di", "Prince", None)]


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The seeded org, once per module on each database (the same answers on both)."""
    from tests.conftest import _reset_postgres

    from localforce.bootstrap import build
    from localforce.security.secretbox import generate_key
    from localforce.settings import Settings

    home = tmp_path_factory.mktemp("corpus")
    url = f"sqlite:///{home / 'lf.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database")
        _reset_postgres(url)
    services = build(Settings(home=home, database_url=url, secret_key=generate_key(),
                              public_url="http://testserver"), clock=lambda: 1_790_000_000.0)
    org = services.directory.create_org("Corpus")
    user, _ = services.directory.create_user(org.id, "admin@corpus.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin",
                                             first_name="Ada")
    admin = Principal(org.id, user.id, user.username, None, None, ("api",),
                      Access(True, True, True, True, ObjectPermissions(), ()), "")
    records = services.data.records
    ids = {}
    for name, industry, employees, revenue, rating in ACCOUNTS:
        ids[name] = records.create(admin, "Account", {
            "Name": name, "Industry": industry, "NumberOfEmployees": employees,
            "AnnualRevenue": revenue, "Rating": rating}).id
    for first, last, account in CONTACTS:
        records.create(admin, "Contact", {"FirstName": first, "LastName": last,
                                          "AccountId": ids.get(account)})
    records.create(admin, "Opportunity", {"Name": "Big deal", "StageName": "Prospecting",
                                          "CloseDate": "2026-09-30", "AccountId": ids["Acme"],
                                          "Amount": 250.0})
    records.create(admin, "Account", {"Name": "Child", "ParentId": ids["Acme"]})
    deal = records.create(admin, "Opportunity", {"Name": "Won deal", "StageName": "Closed Won",
                                                  "CloseDate": "2026-06-30"}).id
    lead = records.create(admin, "Lead", {"FirstName": "Grace", "LastName": "Hopper",
                                          "Company": "Navy", "City": "Arlington",
                                          "State": "VA"}).id
    records.create(admin, "Task", {"Subject": "Call Acme", "WhatId": ids["Acme"],
                                   "Status": "Completed"})
    records.create(admin, "Task", {"Subject": "Prep deal", "WhatId": deal, "WhoId": lead,
                                   "Status": "In Progress"})
    records.delete(admin, "Account", records.create(admin, "Account", {"Name": "Gone"}).id)
    yield services, admin, ids
    services.close()


def run(corpus: Any, soql: str, query_all: bool = False) -> dict[str, Any]:
    services, admin, _ = corpus
    return services.data.queries.query(admin, soql, V, query_all)


def names(result: dict[str, Any], key: str = "Name") -> list[Any]:
    return [r[key] for r in result["records"]]


RECORDS = {  # feature -> [(soql, expected Names in order)]
    "basics": [
        ("SELECT Name FROM Account ORDER BY Name", ["Acme", "acme labs", "Burlington", "Child",
                                                   "Edge", "Global Media", "United Oil"]),
        ("select name from account order by name limit 2", ["Acme", "acme labs"]),
        ("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 5", ["Global Media",
                                                                     "United Oil"]),
        ("SELECT Name FROM Account a ORDER BY a.Name DESC LIMIT 1", ["United Oil"]),
        ("SELECT Name FROM Account ORDER BY Name FOR VIEW", None),
        ("SELECT Name FROM Account ORDER BY Name FOR REFERENCE", None),
    ],
    "comparison": [
        ("SELECT Name FROM Account WHERE Name = 'ACME'", ["Acme"]),
        ("SELECT Name FROM Account WHERE Industry = 'energy' ORDER BY Name", ["Acme",
                                                                            "United Oil"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees > 100 ORDER BY Name",
         ["Global Media", "United Oil"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees >= 100 ORDER BY Name",
         ["Acme", "Global Media", "United Oil"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees < 50", ["acme labs"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees <= 50 ORDER BY Name",
         ["acme labs", "Burlington"]),
        ("SELECT Name FROM Account WHERE AnnualRevenue = 300.5", ["Edge"]),
        ("SELECT Name FROM Account WHERE Industry != 'Energy' ORDER BY Name",
         ["acme labs", "Burlington", "Child", "Edge", "Global Media"]),
        ("SELECT Name FROM Account WHERE Industry <> 'Energy' AND Rating != null ORDER BY Name",
         ["Burlington", "Global Media"]),
        ("SELECT Name FROM Account WHERE Industry = null ORDER BY Name", ["acme labs",
                                                                          "Child"]),
        ("SELECT Name FROM Account WHERE IsDeleted = false AND Name = 'Gone'", []),
    ],
    "like": [
        ("SELECT Name FROM Account WHERE Name LIKE 'acme%' ORDER BY Name", ["Acme",
                                                                          "acme labs"]),
        ("SELECT Name FROM Account WHERE Name LIKE '%oil'", ["United Oil"]),
        ("SELECT Name FROM Account WHERE Name LIKE '_dge'", ["Edge"]),
        ("SELECT Name FROM Account WHERE Name LIKE '%\\_%'", []),
        ("SELECT Name FROM Account WHERE NOT Name LIKE 'a%' ORDER BY Name",
         ["Burlington", "Child", "Edge", "Global Media", "United Oil"]),
    ],
    "in": [
        ("SELECT Name FROM Account WHERE Industry IN ('Media', 'Apparel') ORDER BY Name",
         ["Burlington", "Global Media"]),
        ("SELECT Name FROM Account WHERE Industry NOT IN ('Energy', 'Media') ORDER BY Name",
         ["acme labs", "Burlington", "Child", "Edge"]),
        ("SELECT Name FROM Account WHERE Rating IN ('Hot', null) ORDER BY Name",
         ["Acme", "acme labs", "Child", "Edge", "Global Media"]),
        ("SELECT Name FROM Account WHERE NumberOfEmployees IN (5, 50) ORDER BY Name",
         ["acme labs", "Burlington"]),
    ],
    "logic": [
        ("SELECT Name FROM Account WHERE Industry = 'Energy' AND NumberOfEmployees > 500",
         ["United Oil"]),
        ("SELECT Name FROM Account WHERE Industry = 'Media' OR Rating = 'Warm' ORDER BY Name",
         ["Burlington", "Global Media"]),
        ("SELECT Name FROM Account WHERE (Industry = 'Energy' OR Industry = 'Media') AND "
         "Rating = 'Hot' ORDER BY Name", ["Acme", "Global Media"]),
        ("SELECT Name FROM Account WHERE NOT (Industry = 'Energy') ORDER BY Name",
         ["acme labs", "Burlington", "Child", "Edge", "Global Media"]),
        ("SELECT Name FROM Account WHERE NOT Rating = 'Hot' AND Industry != null ORDER BY Name",
         ["Burlington", "Edge", "United Oil"]),
    ],
    "dates": [
        ("SELECT Name FROM Account WHERE CreatedDate = TODAY AND Name = 'Acme'", ["Acme"]),
        ("SELECT Name FROM Account WHERE CreatedDate = LAST_N_DAYS:3 AND Name = 'Edge'",
         ["Edge"]),
        ("SELECT Name FROM Account WHERE CreatedDate < TODAY", []),
        ("SELECT Name FROM Account WHERE CreatedDate > YESTERDAY AND Name = 'Edge'", ["Edge"]),
        ("SELECT Name FROM Account WHERE CreatedDate = THIS_MONTH AND Name = 'Edge'", ["Edge"]),
        ("SELECT Name FROM Account WHERE CreatedDate = LAST_YEAR", []),
        ("SELECT Name FROM Account WHERE CreatedDate > 2026-01-01T00:00:00Z AND Name = 'Edge'",
         ["Edge"]),
        ("SELECT Name FROM Account WHERE CreatedDate < 2026-01-01T00:00:00+02:00", []),
        ("SELECT Name FROM Opportunity WHERE CloseDate = 2026-09-30", ["Big deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = THIS_MONTH", ["Big deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate > NEXT_N_DAYS:2", ["Big deal"]),
        ("SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:2", []),
    ],
    "relationships": [
        ("SELECT Name FROM Contact WHERE Account.Name = 'Acme' ORDER BY Name",
         ["Ada Lovelace", "Bob Smith"]),
        ("SELECT Name FROM Contact WHERE Account.Owner.Name = 'Ada Admin' ORDER BY LastName",
         ["Ada Lovelace", "Bob Smith", "Cy Young"]),
        ("SELECT Name FROM Contact WHERE AccountId = null", ["Di Prince"]),
        ("SELECT Name FROM Account WHERE Parent.Name = 'Acme'", ["Child"]),
        ("SELECT Name FROM Contact ORDER BY Account.Name NULLS LAST, Name",
         ["Ada Lovelace", "Bob Smith", "Cy Young", "Di Prince"]),
        ("SELECT Name FROM Contact ORDER BY Account.Name NULLS FIRST, Name",
         ["Di Prince", "Ada Lovelace", "Bob Smith", "Cy Young"]),
    ],
    "semi_joins": [
        ("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) ORDER BY Name",
         ["Acme", "Edge"]),
        ("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) AND "
         "ParentId = null ORDER BY Name", ["acme labs", "Burlington", "Global Media",
                                           "United Oil"]),
        ("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE "
         "StageName = 'Prospecting')", ["Acme"]),
        ("SELECT Name FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE "
         "Industry = 'Energy') ORDER BY Name", ["Ada Lovelace", "Bob Smith"]),
    ],
    "order_nulls": [
        ("SELECT Name FROM Account WHERE ParentId = null ORDER BY NumberOfEmployees, Name",
         ["Edge", "acme labs", "Burlington", "Acme", "Global Media", "United Oil"]),
        ("SELECT Name FROM Account WHERE ParentId = null ORDER BY NumberOfEmployees DESC "
         "NULLS LAST", ["United Oil", "Global Media", "Acme", "Burlington", "acme labs",
                        "Edge"]),
        ("SELECT Name FROM Account WHERE Rating != null ORDER BY Rating ASC, Name DESC",
         ["United Oil", "Global Media", "Acme", "Burlington"]),
    ],
}

COUNTS = [
    ("SELECT COUNT() FROM Account", 7),
    ("SELECT COUNT() FROM Account WHERE Industry = 'Energy'", 2),
    ("SELECT COUNT() FROM Contact WHERE Account.Name LIKE 'A%'", 2),
    ("SELECT COUNT() FROM Account LIMIT 3", 3),
    ("SELECT count() FROM account WHERE Id IN (SELECT AccountId FROM Contact)", 2),
]

AGGREGATES = [  # (soql, records without attributes)
    ("SELECT COUNT(Id) FROM Account", [{"expr0": 7}]),
    ("SELECT COUNT(Industry) c FROM Account", [{"c": 5}]),
    ("SELECT COUNT_DISTINCT(Industry) FROM Account", [{"expr0": 4}]),
    ("SELECT SUM(AnnualRevenue), MAX(NumberOfEmployees), MIN(Name) FROM Account",
     [{"expr0": 15310.5, "expr1": 1000, "expr2": "Acme"}]),
    ("SELECT AVG(NumberOfEmployees) avg FROM Account WHERE Industry = 'Energy'",
     [{"avg": 550.0}]),
    ("SELECT Industry, COUNT(Id) FROM Account WHERE Industry != null GROUP BY Industry "
     "ORDER BY Industry", [{"Industry": "Apparel", "expr0": 1}, {"Industry": "Electronics",
                                                                "expr0": 1},
                           {"Industry": "Energy", "expr0": 2}, {"Industry": "Media",
                                                                "expr0": 1}]),
    ("SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry HAVING COUNT(Id) > 1 "
     "ORDER BY Industry NULLS FIRST", [{"Industry": None, "n": 2}, {"Industry": "Energy",
                                                                    "n": 2}]),
    ("SELECT Rating, SUM(AnnualRevenue) total FROM Account WHERE Rating = 'Hot' GROUP BY "
     "Rating", [{"Rating": "Hot", "total": 6000.0}]),
    ("SELECT Account.Name, COUNT(Id) FROM Contact WHERE AccountId != null GROUP BY "
     "Account.Name ORDER BY Account.Name", [{"Name": "Acme", "expr0": 2},
                                            {"Name": "Edge", "expr0": 1}]),
    ("SELECT CALENDAR_YEAR(CloseDate) y, SUM(Amount) FROM Opportunity GROUP BY "
     "CALENDAR_YEAR(CloseDate)", [{"y": 2026, "expr0": 250.0}]),
    ("SELECT OrganizationType, IsSandbox, COUNT(Id) FROM Organization GROUP BY "
     "OrganizationType, IsSandbox", [{"OrganizationType": "Developer Edition",
                                     "IsSandbox": False, "expr0": 1}]),
]

PLATFORM = [  # polymorphic lookups and derived fields: (soql, records without attributes)
    ("SELECT Subject, What.Name, What.Type, Who.Name FROM Task ORDER BY Subject",
     [{"Subject": "Call Acme", "What": {"Name": "Acme", "Type": "Account"}, "Who": None},
      {"Subject": "Prep deal", "What": {"Name": "Won deal", "Type": "Opportunity"},
       "Who": {"Name": "Grace Hopper"}}]),
    ("SELECT Subject FROM Task WHERE What.Type = 'Opportunity'", [{"Subject": "Prep deal"}]),
    ("SELECT Name, Address FROM Lead", [{"Name": "Grace Hopper", "Address": {
        "city": "Arlington", "country": None, "geocodeAccuracy": None, "latitude": None,
        "longitude": None, "postalCode": None, "state": "VA", "street": None}}]),
    ("SELECT BillingAddress FROM Account WHERE Name = 'Acme'", [{"BillingAddress": None}]),
    ("SELECT Subject, IsClosed FROM Task WHERE IsClosed = true", [
        {"Subject": "Call Acme", "IsClosed": True}]),
    ("SELECT Name, IsClosed, IsWon, Probability, ForecastCategoryName FROM Opportunity "
     "ORDER BY Name", [
        {"Name": "Big deal", "IsClosed": False, "IsWon": False, "Probability": 10.0,
         "ForecastCategoryName": "Pipeline"},
        {"Name": "Won deal", "IsClosed": True, "IsWon": True, "Probability": 100.0,
         "ForecastCategoryName": "Closed"}]),
]


def _without_attributes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_attributes(v) for k, v in value.items() if k != "attributes"}
    return value


ERRORS = [  # (soql, errorCode, exact message)
    ("SELECT Bacon__c FROM Account LIMIT 2", "INVALID_FIELD",
     "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\nNo such column "
     "'Bacon__c' on entity 'Account'. If you are attempting to use a custom field, be sure to "
     "append the '__c' after the custom field name. Please reference your WSDL or the describe "
     "call for the appropriate names."),
    ("SELECT Id FROM no_such_object", "INVALID_TYPE",
     "\nSELECT Id FROM no_such_object\n               ^\nERROR at Row:1:Column:16\nsObject type "
     "'no_such_object' is not supported. If you are attempting to use a custom object, be sure "
     "to append the '__c' after the entity name. Please reference your WSDL or the describe "
     "call for the appropriate names."),
    ("SELECT Owner__r.Name FROM Account", "INVALID_FIELD",
     "\nSELECT Owner__r.Name FROM Account\n       ^\nERROR at Row:1:Column:8\nDidn't understand "
     "relationship 'Owner__r' in field path. If you are attempting to use a custom "
     "relationship, be sure to append the '__r' after the custom relationship name. Please "
     "reference your WSDL or the describe call for the appropriate names."),
    ("SELEKT Id FROM Account", "MALFORMED_QUERY", "unexpected token: SELEKT"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", None),
    ("SELECT Id FROM Account WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR",
     "\nSELECT Id FROM Account WHERE Id = 'abc'\n                                  ^\nERROR at "
     "Row:1:Column:35\ninvalid ID field: abc"),
    ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD",
     "\nId FROM Account WHERE Name = 5\n                             ^\nERROR at "
     "Row:1:Column:37\nvalue of filter criterion for field 'Name' must be of type string and "
     "should be enclosed in quotes"),
    ("SELECT Id FROM Account WHERE NumberOfEmployees = '5'", "INVALID_FIELD", None),
    ("SELECT Id FROM Account WHERE CreatedDate = 2024-01-01", "INVALID_FIELD", None),
    ("SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-01T00:00:00Z", "INVALID_FIELD",
     None),
    ("SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", None),
    ("SELECT Name, COUNT(Id) FROM Account", "MALFORMED_QUERY",
     "\nSELECT Name, COUNT(Id) FROM Account\n       ^\nERROR at Row:1:Column:8\nField must be "
     "grouped or aggregated: Name"),
    ("SELECT Id, (SELECT Id FROM Nopes) FROM Account", "INVALID_TYPE", None),
    ("SELECT Id FROM Account WHERE Description = 'x'", "INVALID_FIELD", None),
    ("SELECT Id FROM Account WHERE Industry INCLUDES ('a')", "INVALID_FIELD", None),
    ("SELECT Id FROM Contact WHERE Name IN (SELECT Name FROM Account)", "INVALID_FIELD", None),
    ("SELECT COUNT(Id) FROM Account GROUP BY CUBE(Industry, Type, Rating, Site)",
     "MALFORMED_QUERY", None),  # ROLLUP and CUBE take at most three fields
]

CASES = [(f, q, e) for f, items in RECORDS.items() for q, e in items]


@pytest.mark.parametrize(("feature", "soql", "expected"), CASES,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(CASES)])
def test_records(corpus: Any, feature: str, soql: str, expected: list[str] | None) -> None:
    result = run(corpus, soql)
    if expected is not None:
        assert names(result) == expected
    assert result["done"] is True and result["totalSize"] == len(result["records"])


@pytest.mark.parametrize(("soql", "count"), COUNTS)
def test_count(corpus: Any, soql: str, count: int) -> None:
    assert run(corpus, soql) == {"totalSize": count, "done": True, "records": []}


@pytest.mark.parametrize(("soql", "expected"), AGGREGATES)
def test_aggregates(corpus: Any, soql: str, expected: list[dict[str, Any]]) -> None:
    result = run(corpus, soql)
    assert all(r.pop("attributes") == {"type": "AggregateResult"} for r in result["records"])
    assert result["records"] == expected


@pytest.mark.parametrize(("soql", "expected"), PLATFORM)
def test_platform_fields(corpus: Any, soql: str, expected: list[dict[str, Any]]) -> None:
    assert [_without_attributes(r) for r in run(corpus, soql)["records"]] == expected


@pytest.mark.parametrize(("soql", "code", "message"), ERRORS)
def test_errors(corpus: Any, soql: str, code: str, message: str | None) -> None:
    with pytest.raises(ApiError) as caught:
        run(corpus, soql)
    assert caught.value.error_code == code
    if message is not None:
        assert caught.value.message == message


def test_query_all_sees_deleted_and_shapes(corpus: Any) -> None:
    assert names(run(corpus, "SELECT Name FROM Account WHERE IsDeleted = true", True)) == [
        "Gone"]
    services, admin, ids = corpus
    acme = run(corpus, "SELECT Name, Owner.Name, Parent.Name, (SELECT LastName FROM Contacts "
               "ORDER BY LastName DESC LIMIT 1), (SELECT Name FROM Opportunities) FROM Account "
               "WHERE Name = 'Acme'")["records"][0]
    url = f"/services/data/v{V}/sobjects"
    assert acme == {
        "attributes": {"type": "Account", "url": f"{url}/Account/{ids['Acme']}"},
        "Name": "Acme",
        "Owner": {"attributes": {"type": "User", "url": f"{url}/User/{admin.user_id}"},
                  "Name": "Ada Admin"},
        "Parent": None,
        "Contacts": {"totalSize": 1, "done": True, "records": [
            {"attributes": acme["Contacts"]["records"][0]["attributes"], "LastName": "Smith"}]},
        "Opportunities": {"totalSize": 1, "done": True, "records": [
            {"attributes": acme["Opportunities"]["records"][0]["attributes"],
             "Name": "Big deal"}]},
    }
    edge = run(corpus, "SELECT (SELECT Id FROM Opportunities) FROM Account WHERE Name = 'Edge'")
    assert edge["records"][0]["Opportunities"] is None
    fields = run(corpus, "SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Edge' LIMIT 1")
    assert fields["records"][0]["Industry"] == "Electronics"
    org = run(corpus, "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, "
              "NamespacePrefix, OrganizationType FROM Organization")["records"][0]
    assert {k: v for k, v in org.items() if k != "attributes"} == {
        "Name": "Corpus", "InstanceName": "LOCAL", "IsSandbox": False,
        "TrialExpirationDate": None, "NamespacePrefix": None,
        "OrganizationType": "Developer Edition"}
