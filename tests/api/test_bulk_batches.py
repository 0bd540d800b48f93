"""Bulk API 2.0 update, upsert, delete and hardDelete a transaction of rows at a time
(``Records.update_many``/``upsert_many``/``delete_many``): every row of one transaction gets
the result the one-record calls give it, in order — good and bad rows mixed, an external ID
created by one row and updated by the next, an Id twice, other owners' records, cascades.

Every job here fits one transaction (the runner's 10,000 rows), so each test checks the
batch behaviour, not the row-at-a-time one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both
from tests.api.conftest import Api
from tests.api.test_bulk_ingest import rows, run_job

from localforce.bootstrap import Services
from localforce.domain.models import PRIVATE
from localforce.domain.principal import Principal

ACCOUNT_NOT_FOUND = "NOT_FOUND:The requested resource does not exist: --"


@pytest.fixture
def ext(services: Services, org: Any) -> str:
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    return "Ext__c"


def account(api: Api, **values: Any) -> str:
    response = api.post("/sobjects/Account", {"Name": "A", **values})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def fields(api: Api, record_id: str, *names: str) -> tuple[Any, ...]:
    record = api.get(f"/sobjects/Account/{record_id}").json()
    return tuple(record[n] for n in names)


def test_update_rows_good_and_bad_in_one_transaction(services: Services, api: Api) -> None:
    first, second, gone = account(api, Name="First"), account(api, Name="Second"), account(api)
    assert api.delete(f"/sobjects/Account/{gone}").status_code == 204
    contact = api.post("/sobjects/Contact", {"LastName": "C"}).json()["id"]
    data = ("Id,Name,Site,NumberOfEmployees,ParentId\n"
            f"{first},Renamed,s1,,\n"                  # ok
            "001000000000000AAA,Ghost,,,\n"            # no such record
            "nope,Bad Id,,,\n"                         # not an Id
            f"{contact},Contact Id,,,\n"               # another object's Id
            f"{gone},Deleted,,,\n"                     # in the recycle bin
            f"{second},,,many,\n"                      # not a number
            f"{second},,,,001000000000000AAA\n"        # a parent that does not exist
            ",No Id,,,\n"                              # no Id at all
            f"{second},#N/A,,,\n"                      # a required field emptied
            f"{second[:15]},Second 2,s2,,\n"           # ok (15 characters)
            f"{first},,s1 again,7,{second}\n")         # the same record again: sees row 1
    info = run_job(services, api, "update", data)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (11, 8)
    done = rows(api, info["id"], "successfulResults")
    assert [(r["sf__Id"], r["sf__Created"]) for r in done] == [
        (first, "false"), (second, "false"), (first, "false")]
    failed = rows(api, info["id"], "failedResults")
    assert [r["sf__Error"] for r in failed] == [
        ACCOUNT_NOT_FOUND,
        "MALFORMED_ID:Account ID: id value of incorrect type: nope:Id --",
        f"MALFORMED_ID:Account ID: id value of incorrect type: {contact}:Id --",
        "ENTITY_IS_DELETED:entity is deleted: --",
        "JSON_PARSER_ERROR:Cannot deserialize instance of double from VALUE_STRING value many "
        "or request may be missing a required field: --",
        "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:ParentId --",
        "MISSING_ARGUMENT:Id not specified in an update call:Id --",
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"]
    assert [r["Name"] for r in failed] == ["Ghost", "Bad Id", "Contact Id", "Deleted", "", "",
                                           "No Id", "#N/A"]
    assert fields(api, first, "Name", "Site", "NumberOfEmployees", "ParentId") == (
        "Renamed", "s1 again", 7, second)
    assert fields(api, second, "Name", "Site") == ("Second 2", "s2")


def test_upsert_creates_and_updates_in_one_transaction(services: Services, api: Api,
                                                       ext: str) -> None:
    old = account(api, Name="Old", Ext__c="A-1")
    umlaut = account(api, Name="Umlaut", Ext__c="Ölwerk")
    twins = [account(api, Name="Twin", Ext__c="T-1") for _ in range(2)]
    data = ("Ext__c,Name,Site\n"
            "a-1,Old Renamed,\n"          # matches A-1 whatever the case
            "N-1,New,n\n"                 # created
            "n-1,,n again\n"              # the row before created it: updated
            ",Nameless,\n"                # no external ID
            "T-1,Which,\n"                # two records have it
            "N-2,#N/A,\n"                 # created without its Name
            "ölwerk,Umlaut 2,\n"          # beyond ASCII
            "N-3,Third,\n")               # created
    info = run_job(services, api, "upsert", data, externalIdFieldName=ext)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (8, 3)
    done = rows(api, info["id"], "successfulResults")
    assert [(r["Ext__c"], r["sf__Created"]) for r in done] == [
        ("a-1", "false"), ("N-1", "true"), ("n-1", "false"), ("ölwerk", "false"),
        ("N-3", "true")]
    assert done[0]["sf__Id"] == old and done[3]["sf__Id"] == umlaut
    assert done[1]["sf__Id"] == done[2]["sf__Id"] != done[4]["sf__Id"]
    failed = rows(api, info["id"], "failedResults")
    assert [(r["Ext__c"], r["sf__Error"]) for r in failed] == [
        ("", "MISSING_ARGUMENT:Ext__c not specified:Ext__c --"),
        ("T-1", "DUPLICATE_EXTERNAL_ID:Ext: more than one record found for external id "
                f"field: [{', '.join(sorted(twins))}]:Ext__c --"),
        ("N-2", "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")]
    assert fields(api, old, "Name", "Ext__c") == ("Old Renamed", "A-1")
    assert fields(api, done[1]["sf__Id"], "Name", "Site", "Ext__c") == ("New", "n again", "N-1")
    assert fields(api, umlaut, "Name") == ("Umlaut 2",)
    assert [fields(api, t, "Name") for t in twins] == [("Twin",), ("Twin",)]
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 6


def test_upsert_a_parent_created_earlier_in_the_same_transaction(
        services: Services, api: Api, ext: str) -> None:
    """``Parent.Ext__c`` naming a record the transaction's earlier row created: found, as a
    row at a time would find it."""
    data = "Ext__c,Name,Parent.Ext__c\nP-1,Parent,\nC-1,Child,p-1\nC-2,Orphan,P-9\n"
    info = run_job(services, api, "upsert", data, externalIdFieldName=ext)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 1)
    parent, child = (r["sf__Id"] for r in rows(api, info["id"], "successfulResults"))
    assert fields(api, child, "ParentId") == (parent,)
    assert rows(api, info["id"], "failedResults")[0]["sf__Error"] == (
        "INVALID_FIELD:Foreign key external ID: P-9 not found for field Ext__c in entity "
        "Account:ParentId --")


def test_upsert_with_edit_but_not_create_updates_and_refuses_new_rows(
        services: Services, api: Api, ext: str, make_user: Callable[..., Principal],
        api_as: Callable[[Principal], Api]) -> None:
    kept = account(api, Name="Kept", Ext__c="K-1")
    editor = api_as(make_user(grants={"Account": ["read", "edit"]}))
    info = run_job(services, editor, "upsert", "Ext__c,Name\nK-1,Edited\nK-2,New\n",
                   externalIdFieldName=ext)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    assert [r["sf__Id"] for r in rows(editor, info["id"], "successfulResults")] == [kept]
    assert [r["sf__Error"] for r in rows(editor, info["id"], "failedResults")] == [
        "INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id: --"]
    assert fields(api, kept, "Name") == ("Edited",)


def test_other_owners_records_under_private(services: Services, org: Any,
                                            make_user: Callable[..., Principal],
                                            api_as: Callable[[Principal], Api],
                                            clock: Any) -> None:
    """Under Private a Standard User updates and deletes only their own records; another
    owner's fail row by row with the record-access error, the rest of the transaction
    applies."""
    alice, bob = (api_as(make_user("Standard User")) for _ in range(2))
    services.directory.set_sharing(services.directory.store.get_org(org.id), "Account",
                                   PRIVATE)
    clock.advance(1)
    mine, theirs = account(bob, Name="Bob's"), account(alice, Name="Alice's")
    no_access = "INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object id: --"
    info = run_job(services, bob, "update", f"Id,Name\n{theirs},Taken\n{mine},Bob 2\n")
    assert [r["sf__Error"] for r in rows(bob, info["id"], "failedResults")] == [no_access]
    assert [r["sf__Id"] for r in rows(bob, info["id"], "successfulResults")] == [mine]
    info = run_job(services, bob, "delete", f"Id\n{theirs}\n{mine}\n")
    assert [r["sf__Error"] for r in rows(bob, info["id"], "failedResults")] == [no_access]
    assert fields(alice, theirs, "Name") == ("Alice's",)
    assert bob.get(f"/sobjects/Account/{mine}").status_code == 404


def test_an_id_twice_in_one_transaction(services: Services, org: Any, api: Api,
                                        api_as: Callable[[Principal], Api]) -> None:
    """The second delete of a record finds it in the recycle bin; the second hard delete
    finds nothing."""
    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    soft, hard = account(api, Name="Soft"), account(api, Name="Hard")
    info = run_job(services, api, "delete", f"Id\n{soft}\n{soft[:15]}\n")
    assert [r["sf__Error"] for r in rows(api, info["id"], "failedResults")] == [
        "ENTITY_IS_DELETED:entity is deleted: --"]
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "Purgers", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read", "edit", "delete"})})))
    user, _ = services.directory.create_user(org.id, "purger@acme.test", "Passw0rd-long!",
                                             "Standard User", permission_sets=("Purgers",))
    purger = api_as(principal_of(services, user))
    info = run_job(services, purger, "hardDelete", f"Id\n{hard}\n{hard}\n{soft}\n")
    assert [r["sf__Id"] for r in rows(purger, info["id"], "successfulResults")] == [hard]
    assert [r["sf__Error"] for r in rows(purger, info["id"], "failedResults")] == [
        ACCOUNT_NOT_FOUND, "ENTITY_IS_DELETED:entity is deleted: --"]
    everything = api.get("/queryAll", params={"q": "SELECT Id FROM Account"}).json()
    assert [r["Id"] for r in everything["records"]] == [soft]


@pytest.mark.parametrize("operation", ["delete", "hardDelete"])
def test_deletes_take_the_children_the_platform_deletes_with_them(
        services: Services, org: Any, api: Api, api_as: Callable[[Principal], Api],
        operation: str) -> None:
    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    parents = [account(api, Name=f"P{n}") for n in range(3)]
    contacts = [api.post("/sobjects/Contact", {"LastName": f"C{n}", "AccountId": p}).json()[
        "id"] for n, p in enumerate(parents)]
    case = api.post("/sobjects/Case", {"Subject": "S", "AccountId": parents[0]}).json()["id"]
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "Deleters", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read", "edit", "delete"})})))
    user, _ = services.directory.create_user(org.id, "deleter@acme.test", "Passw0rd-long!",
                                             "System Administrator",
                                             permission_sets=("Deleters",))
    deleter = api_as(principal_of(services, user))
    info = run_job(services, deleter, operation, f"Id\n{parents[0]}\n{parents[1]}\n")
    assert info["numberRecordsFailed"] == 0
    live = api.query("SELECT Id FROM Contact").json()["records"]
    assert [r["Id"] for r in live] == [contacts[2]]
    assert api.query("SELECT COUNT() FROM Case").json()["totalSize"] == 0
    binned = api.get("/queryAll", params={"q": "SELECT Id FROM Contact WHERE IsDeleted = "
                                               "true"}).json()["records"]
    expected = sorted(contacts[:2]) if operation == "delete" else []
    assert sorted(r["Id"] for r in binned) == expected
    all_cases = api.get("/queryAll", params={"q": "SELECT Id FROM Case"}).json()["records"]
    assert [r["Id"] for r in all_cases] == ([case] if operation == "delete" else [])


def test_auto_numbers_of_one_transaction_follow_each_other(services: Services,
                                                           api: Api) -> None:
    first = api.post("/sobjects/Case", {"Subject": "Before"}).json()["id"]
    job = run_job_on(services, api, "Case", "insert", "Subject\nA\nB\nC\n")
    assert job["numberRecordsFailed"] == 0
    numbers = [r["CaseNumber"] for r in api.query(
        "SELECT CaseNumber FROM Case ORDER BY CaseNumber").json()["records"]]
    start = int(api.get(f"/sobjects/Case/{first}").json()["CaseNumber"])
    assert numbers == [f"{start + n:08d}" for n in range(4)]


def run_job_on(services: Services, api: Api, sobject: str, operation: str, data: str
               ) -> dict[str, Any]:
    from tests.api.test_bulk_ingest import close, create, upload

    job = create(api, object=sobject, operation=operation)
    assert upload(api, job["id"], data).status_code == 201
    assert close(api, job["id"]).status_code == 200
    services.bulk.runner.run_pending()
    return dict(api.get(f"/jobs/ingest/{job['id']}").json())
