"""Bulk API 2.0 insert a column at a time (``data/bulk/inserts.py``) against the same rows
a body at a time (``Records.create_many``): the same failed rows with the same errors in the
same order, the same result CSV apart from the new Ids, the same stored records."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both
from tests.api.conftest import Api
from tests.api.test_bulk_batches import run_job_on

from localforce.bootstrap import Services
from localforce.data.bulk import inserts

INGEST = "/jobs/ingest"


@pytest.fixture
def custom(services: Services, org: Any) -> None:
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 5, "external_id": True},
        {"name": "Tier__c", "type": "Picklist", "values": ["Gold", "Silver"],
         "restricted": True},
        {"name": "Since__c", "type": "Date"},
        {"name": "Vip__c", "type": "Checkbox"},
        {"name": "Mail__c", "type": "Email"}]})


def results(api: Api, job_id: str, which: str) -> str:
    response = api.get(f"{INGEST}/{job_id}/{which}")
    assert response.status_code == 200
    return str(response.text)


def both_ways(services: Services, api: Api, monkeypatch: pytest.MonkeyPatch, sobject: str,
              data: str, fields: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job run a column at a time, then a body at a time; per run its info, result
    CSVs (new Ids blanked) and the stored fields of the records it created, in row order."""
    taken: list[bool] = []
    original = inserts.insert

    def spy(*args: Any) -> Any:
        out = original(*args)
        taken.append(out is not None)
        return out

    runs = []
    for columnwise in (True, False):
        monkeypatch.setattr(inserts, "insert", spy if columnwise else lambda *a: None)
        info = run_job_on(services, api, sobject, "insert", data)
        done = results(api, info["id"], "successfulResults")
        created = [row["sf__Id"] for row in csv.DictReader(io.StringIO(done))]
        for record_id in created:
            done = done.replace(record_id, "<id>")
        records = [api.get(f"/sobjects/{sobject}/{i}?fields={fields}").json() for i in created]
        for record in records:
            record.pop("attributes")
            record.pop("Id", None)
        runs.append({"info": {k: info[k] for k in ("state", "numberRecordsProcessed",
                                                   "numberRecordsFailed")},
                     "done": done, "failed": results(api, info["id"], "failedResults"),
                     "records": records})
    assert taken == [True]  # the first run went a column at a time
    return runs[0], runs[1]


def test_good_and_bad_account_rows_give_the_row_paths_results(
        services: Services, api: Api, custom: None, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = api.post("/sobjects/Account", {"Name": "Parent"}).json()["id"]
    gone = api.post("/sobjects/Account", {"Name": "Gone"}).json()["id"]
    assert api.delete(f"/sobjects/Account/{gone}").status_code == 204
    contact = api.post("/sobjects/Contact", {"LastName": "C"}).json()["id"]
    data = ("Name,NumberOfEmployees,Ext__c,Tier__c,Since__c,Vip__c,Mail__c,ParentId,Id\n"
            "Good,10,E1,Gold,2024-01-31,true,a@b.co,,\n"            # ok
            "Many,ten,E2,,,,,,\n"                                    # not a number
            ",5,,,,,,,\n"                                            # Name missing
            "#N/A,5,,,,,,,\n"                                        # Name set to null
            "Long,1,TOOLONG,,,,,,\n"                                 # Ext__c too long
            "Pick,1,,Bronze,,,,,\n"                                  # restricted picklist
            "Day,1,,,2024-02-30,,,,\n"                               # no such date
            "Yes,1,,,,maybe,,,\n"                                    # not a boolean
            "Mail,1,,,,,not-an-email,,\n"                            # bad email
            f"Child,1,,,,,,{parent},\n"                              # ok, a parent
            "Orphan,1,,,,,,001000000000000AAA,\n"                    # no such parent
            f"Deleted parent,1,,,,,,{gone},\n"                       # parent in the bin
            f"Wrong parent,1,,,,,,{contact},\n"                      # a Contact's Id
            "Malformed parent,1,,,,,,nope,\n"                        # not an Id
            f"With Id,1,,,,,,,{parent}\n"                            # Id on insert
            ",many,TOOLONG,,,,,,\n"                                  # first error: the number
            ",1,,,,,,nope,\n"                                        # the lookup before Name
            "Nulls,#N/A,#N/A,#N/A,#N/A,#N/A,#N/A,#N/A,\n"            # ok, all null
            "Last,3,E3,Silver,,false,,,\n")                          # ok
    by_column, by_row = both_ways(services, api, monkeypatch, "Account", data,
                                  "Name,NumberOfEmployees,Ext__c,Tier__c,Since__c,Vip__c,"
                                  "Mail__c,ParentId,OwnerId,IsDeleted")
    assert by_column == by_row
    assert by_column["info"]["numberRecordsFailed"] == 15
    errors = [r["sf__Error"] for r in csv.DictReader(io.StringIO(by_column["failed"]))]
    assert errors[:2] == [
        "JSON_PARSER_ERROR:Cannot deserialize instance of double from VALUE_STRING value ten "
        "or request may be missing a required field: --",
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"]


def test_a_column_the_user_may_not_set_fails_each_row_that_sets_it(
        services: Services, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    data = "Subject,CaseNumber,IsEscalated\nA,,true\nB,00000007,\nC,#N/A,false\nD,,\n"
    by_column, by_row = both_ways(services, api, monkeypatch, "Case", data,
                                  "Subject,IsEscalated,Status,Priority")
    assert by_column == by_row
    assert by_column["info"]["numberRecordsFailed"] == 2


def test_defaults_owner_and_auto_numbers_as_the_row_path_sets_them(
        services: Services, api: Api, org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    account = api.post("/sobjects/Account", {"Name": "A"}).json()["id"]
    data = ("Subject,Status,Priority,AccountId,OwnerId\n"
            "Defaults,,,,\n"
            "Null status,#N/A,High,,#N/A\n"                    # null stays null; owner: caller
            f"Bad account,,,001000000000000AAA,\n"             # fails: no number taken
            f"With account,Working,Low,{account},\n")
    by_column, by_row = both_ways(services, api, monkeypatch, "Case", data,
                                  "Subject,Status,Priority,AccountId,OwnerId")
    numbers = [r["CaseNumber"] for r in api.query(
        "SELECT CaseNumber FROM Case ORDER BY CaseNumber").json()["records"]]
    assert by_column == by_row
    assert by_column["records"][0]["Status"] == "New"
    assert by_column["records"][1]["Status"] is None
    assert len(numbers) == 6 and numbers == [f"{int(numbers[0]) + n:08d}" for n in range(6)]
