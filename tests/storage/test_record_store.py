"""RecordStore + SOQL compiler contract, on SQLite and PostgreSQL (``database_url``).

The same calls must give the same answers on both databases: DML through ``Records`` (which
drives ``SqlRecordStore``), custom objects declared at runtime (DDL on a live database),
and a representative slice of SOQL compiled by ``soql_to_sql.py`` — every assertion is an
exact result. The full SOQL corpus (tests/soql_corpus) also runs on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FixedClock, make_settings

from localforce.bootstrap import Services, build
from localforce.data.errors import ApiError, NotFound
from localforce.data.ports import Cursor
from localforce.data.records import MultipleChoices
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal
from localforce.storage.sql import record_store

V = "59.0"
FULL = Access(True, True, True, False, ObjectPermissions(), ())


@pytest.fixture
def svc(database_url: str, home: Path, clock: FixedClock) -> Iterator[Services]:
    services = build(make_settings(home, database_url), clock=clock)
    yield services
    services.close()


@pytest.fixture
def admin(svc: Services) -> Principal:
    org = svc.directory.create_org("Acme Corp")
    user, _ = svc.directory.create_user(org.id, "admin@acme.test", "Passw0rd-long!",
                                        "System Administrator", last_name="Admin",
                                        first_name="Ada")
    return Principal(org.id, user.id, user.username, None, None, ("api",), FULL, "")


def query(svc: Services, who: Principal, soql: str, **kw: Any) -> dict[str, Any]:
    return svc.data.queries.query(who, soql, V, **kw)


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Records without their ``attributes`` (nested parents keep theirs stripped too)."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "attributes"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return [strip(r) for r in result["records"]]


def create(svc: Services, who: Principal, sobject: str, **values: Any) -> str:
    return svc.data.records.create(who, sobject, values).id


@pytest.fixture
def accounts(svc: Services, admin: Principal) -> dict[str, str]:
    """Five accounts, contacts on two of them, an opportunity, a child account."""
    ids = {}
    for name, industry, employees, rating in [
            ("Acme", "Energy", 100, "Hot"), ("Burlington", "Apparel", 50, "Warm"),
            ("Edge", "Electronics", None, None), ("Global Media", "Media", 500, "Hot"),
            ("acme labs", None, 5, None)]:
        ids[name] = create(svc, admin, "Account", Name=name, Industry=industry,
                           NumberOfEmployees=employees, Rating=rating)
    ids["Child"] = create(svc, admin, "Account", Name="Child", ParentId=ids["Acme"])
    for first, last, account in [("Ada", "Lovelace", "Acme"), ("Bob", "Smith", "Acme"),
                                 ("Cy", "Young", "Edge"), ("Di", "Prince", None)]:
        create(svc, admin, "Contact", FirstName=first, LastName=last,
               AccountId=ids.get(account) if account else None)
    create(svc, admin, "Opportunity", Name="Big deal", StageName="Prospecting",
           CloseDate="2026-09-30", AccountId=ids["Acme"], Amount=250.0)
    return ids


# -- DML ----------------------------------------------------------------------------------


def test_create_retrieve_update_delete(svc: Services, admin: Principal,
                                       clock: FixedClock) -> None:
    records = svc.data.records
    record_id = create(svc, admin, "Account", Name="Acme", NumberOfEmployees=12,
                       AnnualRevenue=1500.5, Industry="Energy")
    fields = "Name,NumberOfEmployees,AnnualRevenue,Industry,Rating,IsDeleted,CreatedDate,OwnerId"
    got = records.retrieve(admin, "Account", record_id[:15], V, fields)
    assert got == {"attributes": {"type": "Account",
                                  "url": f"/services/data/v{V}/sobjects/Account/{record_id}"},
                   "Name": "Acme", "NumberOfEmployees": 12, "AnnualRevenue": 1500.5,
                   "Industry": "Energy", "Rating": None, "IsDeleted": False,
                   "CreatedDate": "2026-09-21T14:13:20.000+0000", "OwnerId": admin.user_id}
    clock.advance(90)
    records.update(admin, "Account", record_id, {"Rating": "Hot", "AnnualRevenue": None})
    got = records.retrieve(admin, "Account", record_id, V,
                           "Rating,AnnualRevenue,LastModifiedDate,CreatedDate")
    assert (got["Rating"], got["AnnualRevenue"], got["LastModifiedDate"], got["CreatedDate"]) == (
        "Hot", None, "2026-09-21T14:14:50.000+0000", "2026-09-21T14:13:20.000+0000")
    records.delete(admin, "Account", record_id)
    with pytest.raises(NotFound):
        records.retrieve(admin, "Account", record_id, V)
    assert query(svc, admin, "SELECT Id FROM Account")["totalSize"] == 0
    everything = query(svc, admin, "SELECT Name, IsDeleted FROM Account", query_all=True)
    assert rows(everything) == [{"Name": "Acme", "IsDeleted": True}]


def test_a_store_update_names_only_columns_and_touches_only_its_orgs_row(
        svc: Services, admin: Principal) -> None:
    record_id = create(svc, admin, "Account", Name="Acme")
    obj = svc.data.records.object(admin, "Account")
    store = svc.data.records.store
    with pytest.raises(KeyError):
        store.update(obj, admin.org_id, record_id, {"Name": "Renamed", "NoSuchColumn": 1})
    store.update(obj, "00D000000000001AAA", record_id, {"Name": "Another org's write"})
    assert rows(query(svc, admin, "SELECT Name FROM Account")) == [{"Name": "Acme"}]
    store.update(obj, admin.org_id, record_id, {"Name": "Renamed"})
    assert rows(query(svc, admin, "SELECT Name FROM Account")) == [{"Name": "Renamed"}]


def test_creates_reuse_the_table_their_store_built(svc: Services, admin: Principal,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each create is a transaction of its own, on a store made for it. That store reuses the
    object's ``Source`` (the table its compiled INSERT is cached against) built before,
    instead of building it again (its cost: bench/README.md, twenty-third pass)."""
    built: list[str] = []
    real = record_store.Source

    def source(obj: Any, *args: Any) -> record_store.Source:
        built.append(obj.name)
        return real(obj, *args)

    monkeypatch.setattr(record_store, "Source", source)
    for i in range(3):
        create(svc, admin, "Account", Name=f"Acme {i}")

    assert built.count("Account") <= 1
    assert query(svc, admin, "SELECT COUNT() FROM Account")["totalSize"] == 3


def test_upsert_by_external_id(svc: Services, admin: Principal) -> None:
    svc.data.declare(admin.org_id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    records = svc.data.records
    first = records.upsert(admin, "Account", "Ext__c", "A-1", {"Name": "Acme"}, V)
    assert first.created is True
    again = records.upsert(admin, "Account", "ext__c", "a-1", {"Name": "Acme 2"}, V)
    assert (again.created, again.id) == (False, first.id)
    assert records.by_external_id(admin, "Account", "Ext__c", "A-1", V, "Name,Ext__c") == {
        "attributes": {"type": "Account",
                       "url": f"/services/data/v{V}/sobjects/Account/{first.id}"},
        "Name": "Acme 2", "Ext__c": "A-1"}
    second = create(svc, admin, "Account", Name="Other", Ext__c="A-1")
    with pytest.raises(MultipleChoices) as caught:
        records.upsert(admin, "Account", "Ext__c", "A-1", {"Name": "x"}, V)
    assert caught.value.body() == [f"/services/data/v{V}/sobjects/Account/{i}"
                                   for i in sorted([first.id, second])]


def test_custom_object_declared_and_widened_at_runtime(svc: Services, admin: Principal) -> None:
    thing = svc.data.declare(admin.org_id, {"name": "Thing__c", "fields": [
        {"name": "Code__c", "type": "Text", "length": 20, "external_id": True},
        {"name": "Size__c", "type": "Number"},
        {"name": "Done__c", "type": "Checkbox"},
        {"name": "Due__c", "type": "Date"},
        {"name": "Account__c", "type": "Lookup", "reference_to": "Account"}]})
    assert thing.key_prefix == "a01"
    acme = create(svc, admin, "Account", Name="Acme")
    create(svc, admin, "Thing__c", Name="T1", Code__c="T-1", Size__c=2.5, Due__c="2026-01-31",
           Account__c=acme)
    create(svc, admin, "Thing__c", Name="T2", Code__c="T-2", Done__c=True)
    # A new field on a table that already has rows: ALTER TABLE, old rows read null.
    svc.data.declare(admin.org_id, {"name": "Thing__c", "fields": [
        {"name": "Note__c", "type": "Text"}]})
    create(svc, admin, "Thing__c", Name="T3", Note__c="new")
    result = query(svc, admin, "SELECT Name, Code__c, Size__c, Done__c, Due__c, Note__c, "
                   "Account__r.Name FROM Thing__c ORDER BY Name")
    assert rows(result) == [
        {"Name": "T1", "Code__c": "T-1", "Size__c": 2.5, "Done__c": False, "Due__c":
         "2026-01-31", "Note__c": None, "Account__r": {"Name": "Acme"}},
        {"Name": "T2", "Code__c": "T-2", "Size__c": None, "Done__c": True, "Due__c": None,
         "Note__c": None, "Account__r": None},
        {"Name": "T3", "Code__c": None, "Size__c": None, "Done__c": False, "Due__c": None,
         "Note__c": "new", "Account__r": None}]
    children = query(svc, admin, "SELECT Name, (SELECT Code__c FROM Things__r) FROM Account")
    assert rows(children) == [{"Name": "Acme", "Things__r": {
        "totalSize": 1, "done": True, "records": [{"Code__c": "T-1"}]}}]
    assert rows(query(svc, admin, "SELECT Name FROM Thing__c WHERE Code__c = 't-2'")) == [
        {"Name": "T2"}]
    assert [d["name"] for d, _ in svc.data.store.declarations(admin.org_id)] == ["Thing__c"]


# -- SOQL ---------------------------------------------------------------------------------


def test_parent_paths_and_child_subqueries(svc: Services, admin: Principal,
                                           accounts: dict[str, str]) -> None:
    contacts = query(svc, admin, "SELECT Name, Account.Name, Account.Owner.Name FROM Contact "
                     "WHERE Account.Industry = 'energy' ORDER BY Name")
    assert rows(contacts) == [
        {"Name": "Ada Lovelace", "Account": {"Name": "Acme", "Owner": {"Name": "Ada Admin"}}},
        {"Name": "Bob Smith", "Account": {"Name": "Acme", "Owner": {"Name": "Ada Admin"}}}]
    parents = query(svc, admin, "SELECT Name, (SELECT LastName FROM Contacts ORDER BY "
                    "LastName DESC), (SELECT Name FROM ChildAccounts) FROM Account WHERE "
                    "Name IN ('Acme', 'Edge', 'Burlington') ORDER BY Name")
    assert rows(parents) == [
        {"Name": "Acme",
         "Contacts": {"totalSize": 2, "done": True, "records": [{"LastName": "Smith"},
                                                              {"LastName": "Lovelace"}]},
         "ChildAccounts": {"totalSize": 1, "done": True, "records": [{"Name": "Child"}]}},
        {"Name": "Burlington", "Contacts": None, "ChildAccounts": None},
        {"Name": "Edge", "Contacts": {"totalSize": 1, "done": True,
                                     "records": [{"LastName": "Young"}]},
         "ChildAccounts": None}]


def test_aggregates_group_by_having(svc: Services, admin: Principal,
                                    accounts: dict[str, str]) -> None:
    grouped = query(svc, admin, "SELECT Rating, COUNT(Id) n, SUM(NumberOfEmployees) total, "
                    "MAX(NumberOfEmployees) top FROM Account GROUP BY Rating HAVING COUNT(Id) > 1 "
                    "ORDER BY Rating NULLS LAST")
    assert rows(grouped) == [{"Rating": "Hot", "n": 2, "total": 600.0, "top": 500},
                             {"Rating": None, "n": 3, "total": 5.0, "top": 5}]
    by_parent = query(svc, admin, "SELECT Account.Name, COUNT(Id) FROM Contact WHERE "
                      "AccountId != null GROUP BY Account.Name ORDER BY COUNT(Id) DESC")
    assert rows(by_parent) == [{"Name": "Acme", "expr0": 2}, {"Name": "Edge", "expr0": 1}]
    whole = query(svc, admin, "SELECT COUNT(Id), COUNT_DISTINCT(Industry), "
                  "AVG(NumberOfEmployees), MIN(NumberOfEmployees) FROM Account")
    assert rows(whole) == [{"expr0": 6, "expr1": 4, "expr2": 163.75, "expr3": 5}]
    months = query(svc, admin, "SELECT CALENDAR_MONTH(CloseDate) m, CALENDAR_QUARTER(CloseDate) "
                   "q, SUM(Amount) FROM Opportunity GROUP BY CALENDAR_MONTH(CloseDate), "
                   "CALENDAR_QUARTER(CloseDate)")
    assert rows(months) == [{"m": 9, "q": 3, "expr0": 250.0}]
    assert query(svc, admin, "SELECT COUNT() FROM Contact WHERE Account.Name LIKE 'a%'") == {
        "totalSize": 2, "done": True, "records": []}


def test_semi_and_anti_joins(svc: Services, admin: Principal, accounts: dict[str, str]) -> None:
    semi = query(svc, admin, "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM "
                 "Contact) ORDER BY Name")
    assert rows(semi) == [{"Name": "Acme"}, {"Name": "Edge"}]
    # The anti-join's inner select has null AccountIds (Di Prince): nulls must not empty it.
    anti = query(svc, admin, "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM "
                 "Contact) AND ParentId = null ORDER BY Name")
    assert rows(anti) == [{"Name": "acme labs"}, {"Name": "Burlington"}, {"Name": "Global Media"}]
    by_parent = query(svc, admin, "SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id "
                      "FROM Account WHERE Industry = 'Energy') ORDER BY LastName")
    assert rows(by_parent) == [{"LastName": "Lovelace"}, {"LastName": "Smith"}]
    with pytest.raises(ApiError) as caught:  # Salesforce refuses nesting, so do we
        query(svc, admin, "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account "
              "WHERE Id IN (SELECT AccountId FROM Opportunity))")
    assert caught.value.message.endswith("Nesting of semi join sub-selects is not supported")


def test_like_and_equality_ignore_case(svc: Services, admin: Principal,
                                       accounts: dict[str, str]) -> None:
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Name LIKE 'ACME%' ORDER BY "
                      "Name")) == [{"Name": "Acme"}, {"Name": "acme labs"}]
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Name LIKE '%MEDIA'")) == [
        {"Name": "Global Media"}]
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Name LIKE 'e_ge'")) == [
        {"Name": "Edge"}]
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Name = 'ACME LABS'")) == [
        {"Name": "acme labs"}]
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Industry IN ('MEDIA', "
                      "'apparel') ORDER BY Name")) == [{"Name": "Burlington"},
                                                       {"Name": "Global Media"}]
    # Non-ASCII text: the database folds both sides (SQLite's lower() folds ASCII only, so
    # there 'ölwerk' would not find 'Ölwerk'; the exact spelling and ASCII case always do).
    create(svc, admin, "Account", Name="Ölwerk")
    create(svc, admin, "Account", Name="Zürich AG")
    for where in ("Name = 'Ölwerk'", "Name = 'ÖLWERK'", "Name LIKE 'Öl%'"):
        assert rows(query(svc, admin, f"SELECT Name FROM Account WHERE {where}")) == [
            {"Name": "Ölwerk"}], where
    assert rows(query(svc, admin, "SELECT Name FROM Account WHERE Name IN ('zürich ag')")) == [
        {"Name": "Zürich AG"}]


def test_order_by_nulls_first_and_last(svc: Services, admin: Principal,
                                       accounts: dict[str, str]) -> None:
    def names(soql: str) -> list[str]:
        return [r["Name"] for r in query(svc, admin, soql)["records"]]

    top = "SELECT Name FROM Account WHERE ParentId = null ORDER BY NumberOfEmployees"
    # SOQL sorts nulls first by default in both directions (PostgreSQL's default is the
    # opposite for ASC, so the compiler must say so).
    assert names(top) == ["Edge", "acme labs", "Burlington", "Acme", "Global Media"]
    assert names(top + " DESC") == ["Edge", "Global Media", "Acme", "Burlington", "acme labs"]
    assert names(top + " NULLS LAST") == ["acme labs", "Burlington", "Acme", "Global Media",
                                          "Edge"]
    assert names(top + " DESC NULLS LAST") == ["Global Media", "Acme", "Burlington",
                                               "acme labs", "Edge"]
    assert names("SELECT Name FROM Account ORDER BY Rating NULLS LAST, Name DESC LIMIT 4") == [
        "Global Media", "Acme", "Burlington", "Edge"]


def test_date_literals_and_date_values(svc: Services, admin: Principal,
                                       clock: FixedClock) -> None:
    # 2026-09-21 14:13:20 UTC (a Monday); one account per day going back 40 days.
    for days_ago in (0, 1, 3, 10, 40):
        clock.now = 1_790_000_000.0 - days_ago * 86400
        create(svc, admin, "Account", Name=f"D{days_ago}")
    clock.now = 1_790_000_000.0
    create(svc, admin, "Opportunity", Name="Q4", StageName="Prospecting",
           CloseDate="2026-10-01")

    def names(where: str, sobject: str = "Account") -> list[str]:
        return [r["Name"] for r in query(
            svc, admin, f"SELECT Name FROM {sobject} WHERE {where} ORDER BY CreatedDate DESC"
        )["records"]]

    assert names("CreatedDate = TODAY") == ["D0"]
    assert names("CreatedDate = YESTERDAY") == ["D1"]
    assert names("CreatedDate = LAST_N_DAYS:3") == ["D0", "D1", "D3"]
    assert names("CreatedDate < LAST_N_DAYS:3") == ["D10", "D40"]
    assert names("CreatedDate = THIS_WEEK") == ["D0", "D1"]  # weeks start on Sunday
    assert names("CreatedDate = LAST_WEEK") == ["D3"]
    assert names("CreatedDate = THIS_MONTH") == ["D0", "D1", "D3", "D10"]
    assert names("CreatedDate = LAST_MONTH") == ["D40"]
    assert names("CreatedDate != THIS_MONTH") == ["D40"]
    assert names("CreatedDate >= 2026-09-18T00:00:00Z") == ["D0", "D1", "D3"]
    assert names("CreatedDate > 2026-09-21T10:00:00-05:00") == []
    assert names("CloseDate = NEXT_MONTH", "Opportunity") == ["Q4"]
    assert names("CloseDate = NEXT_QUARTER", "Opportunity") == ["Q4"]
    assert names("CloseDate > 2026-09-30", "Opportunity") == ["Q4"]
    assert names("CloseDate = THIS_YEAR AND CloseDate = NEXT_N_DAYS:10", "Opportunity") == [
        "Q4"]


def test_date_literals_use_the_users_time_zone(svc: Services, admin: Principal,
                                                clock: FixedClock) -> None:
    """TODAY is the user's day: midnight to midnight in their TimeZoneSidKey."""
    def at(iso: str) -> float:
        return dt.datetime.fromisoformat(iso).timestamp()

    clock.now = at("2026-09-20T20:00:00+00:00")  # 13:00 in Los Angeles, the 20th
    create(svc, admin, "Account", Name="Early")
    clock.now = at("2026-09-21T02:00:00+00:00")  # 19:00 in Los Angeles, still the 20th
    create(svc, admin, "Account", Name="Late")
    create(svc, admin, "Opportunity", Name="Due", StageName="Prospecting",
           CloseDate="2026-09-20")
    clock.now = at("2026-09-21T05:00:00+00:00")  # 22:00 on the 20th in Los Angeles

    def names(where: str, sobject: str = "Account") -> list[str]:
        return [r["Name"] for r in query(svc, admin, f"SELECT Name FROM {sobject} WHERE "
                                         f"{where} ORDER BY Name")["records"]]

    def move_to(zone: str) -> None:
        user = svc.directory.store.get_user(admin.user_id)
        assert user is not None
        svc.directory.store.save_user(replace(user, time_zone=zone))

    # A new user's zone is America/Los_Angeles, as on Salesforce.
    assert (names("CreatedDate = TODAY"), names("CreatedDate = YESTERDAY")) == (
        ["Early", "Late"], [])
    assert names("CloseDate = TODAY", "Opportunity") == ["Due"]
    move_to("Asia/Tokyo")
    assert names("CreatedDate = TODAY") == ["Early", "Late"]
    assert names("CloseDate = YESTERDAY", "Opportunity") == ["Due"]
    for zone in ("GMT", "Not/AZone"):  # an unknown zone counts as UTC
        move_to(zone)
        assert (names("CreatedDate = TODAY"), names("CreatedDate = YESTERDAY")) == (
            ["Late"], ["Early"])
        assert names("CloseDate = TODAY", "Opportunity") == []


def test_directory_objects(svc: Services, admin: Principal) -> None:
    org = query(svc, admin, "SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, "
                "NamespacePrefix, OrganizationType FROM Organization")
    assert (org["totalSize"], rows(org)) == (1, [{
        "Name": "Acme Corp", "InstanceName": "LOCAL", "IsSandbox": False,
        "TrialExpirationDate": None, "NamespacePrefix": None,
        "OrganizationType": "Developer Edition"}])
    users = query(svc, admin, "SELECT Username, Name, IsActive FROM User WHERE "
                  "CreatedDate > 2020-01-01T00:00:00Z AND Username LIKE 'ADMIN@%'")
    assert rows(users) == [{"Username": "admin@acme.test", "Name": "Ada Admin",
                            "IsActive": True}]
    assert query(svc, admin, "SELECT COUNT() FROM Profile WHERE Name = 'system administrator'"
                 )["totalSize"] == 1


# -- paging ---------------------------------------------------------------------------------


def _all_pages(svc: Services, who: Principal, soql: str, batch: int) -> tuple[list[int],
                                                                             list[str]]:
    page = svc.data.queries.query(who, soql, V, batch=batch)
    sizes, names = [len(page["records"])], [r["Name"] for r in page["records"]]
    while not page["done"]:
        assert page["totalSize"] == 450
        locator = page["nextRecordsUrl"].rsplit("/", 1)[1]
        page = svc.data.queries.more(who, locator, V)
        sizes.append(len(page["records"]))
        names += [r["Name"] for r in page["records"]]
    return sizes, names


def test_paging_with_locators(svc: Services, admin: Principal) -> None:
    with svc.data.store.transaction() as store:
        records = svc.data.records.with_store(store)
        for n in range(450):
            records.create(admin, "Account", {"Name": f"Acct {n:03d}", "NumberOfEmployees": n})
    by_id = _all_pages(svc, admin, "SELECT Name FROM Account", 200)
    assert by_id[0] == [200, 200, 50]
    assert sorted(by_id[1]) == [f"Acct {n:03d}" for n in range(450)]
    ordered = _all_pages(svc, admin, "SELECT Name FROM Account ORDER BY NumberOfEmployees DESC",
                         200)
    assert ordered == ([200, 200, 50], [f"Acct {n:03d}" for n in reversed(range(450))])
    limited = svc.data.queries.query(admin, "SELECT Name FROM Account ORDER BY Name LIMIT 300 "
                                     "OFFSET 10", V, batch=200)
    assert (limited["totalSize"], limited["records"][0]["Name"]) == (300, "Acct 010")
    rest = svc.data.queries.more(admin, limited["nextRecordsUrl"].rsplit("/", 1)[1], V)
    assert (rest["done"], [r["Name"] for r in rest["records"]][-1], len(rest["records"])) == (
        True, "Acct 309", 100)
    with pytest.raises(ApiError) as caught:
        svc.data.queries.more(admin, limited["nextRecordsUrl"].rsplit("/", 1)[1][:-3] + "999",
                              V)
    assert caught.value.error_code == "INVALID_QUERY_LOCATOR"


@pytest.mark.parametrize(("order_by", "nulls_last"), [
    ("Rating NULLS LAST, NumberOfEmployees DESC", True),
    ("Rating, NumberOfEmployees DESC", False)])
def test_keyset_pages_survive_changes_between_pages(svc: Services, admin: Principal,
                                                    order_by: str, nulls_last: bool) -> None:
    """ORDER BY pages start after the last row's sort key: deleting rows already served and
    adding rows that sort before the cursor neither skips nor repeats a record."""
    ratings = [None, "Hot", "Cold"]
    made = []
    with svc.data.store.transaction() as store:
        records = svc.data.records.with_store(store)
        for n in range(300):
            rating, employees = ratings[n % 3], n % 7  # ties, broken by Id
            made.append((records.create(admin, "Account", {
                "Name": f"K{n:03d}", "Rating": rating, "NumberOfEmployees": employees}).id,
                f"K{n:03d}", rating, employees))

    def sort_key(row: tuple[str, str, str | None, int]) -> tuple[Any, ...]:
        record_id, _, rating, employees = row
        null_rank = (rating is None) if nulls_last else (rating is not None)
        return (null_rank, (rating or "").lower(), -employees, record_id)

    expected = [name for _, name, _, _ in sorted(made, key=sort_key)]
    first = svc.data.queries.query(admin, f"SELECT Name FROM Account ORDER BY {order_by}", V,
                                   batch=200)
    assert [r["Name"] for r in first["records"]] == expected[:200]
    by_name = {name: record_id for record_id, name, _, _ in made}
    for name in expected[:20]:  # rows already served go away...
        svc.data.records.delete(admin, "Account", by_name[name])
    for n in range(5):  # ...and new rows sort before the cursor
        create(svc, admin, "Account", Name=f"New{n}", Rating="Cold" if nulls_last else None,
               NumberOfEmployees=99)
    rest = svc.data.queries.more(admin, first["nextRecordsUrl"].rsplit("/", 1)[1], V)
    assert (rest["done"], [r["Name"] for r in rest["records"]]) == (True, expected[200:])


# -- the port's own verbs -----------------------------------------------------------------


def test_cursors_prefixes_and_explain(svc: Services, admin: Principal) -> None:
    store = svc.data.store
    cursor = Cursor("01g000000000001AAA", admin.org_id, admin.user_id, "SELECT Id FROM Account",
                    False, 2000, 4500, {"2000": "001000000000001AAA"}, 1_790_000_900)
    store.save_cursor(cursor)
    assert store.get_cursor(cursor.id) == cursor
    moved = Cursor(cursor.id, cursor.org_id, cursor.user_id, cursor.soql, False, 2000, 4500,
                   {"2000": "001000000000001AAA", "4000": "001000000000002AAA"}, 1_790_001_000)
    store.save_cursor(moved)
    assert store.get_cursor(cursor.id) == moved
    assert store.get_cursor("01g000000000009AAA") is None
    assert store.next_key_prefix(admin.org_id) == "a01"
    svc.data.declare(admin.org_id, {"name": "Thing__c", "fields": []})
    assert store.next_key_prefix(admin.org_id) == "a02"
    plan = svc.data.queries.plan(admin, "SELECT Id FROM Account WHERE Name = 'Acme'")
    sql, lines = store.explain(plan)
    assert "lower" in sql.lower() and "sobject_account" in sql
    assert any("ix_sobject_account_name" in line for line in lines) or svc.engine.dialect.name \
        == "postgresql"  # an empty PostgreSQL table is scanned, whatever the indexes
    assert lines
