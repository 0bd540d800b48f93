"""Bulk API 2.0 query jobs through the ASGI app: the SOQL checked at create, the result as CSV
pages with ``Sforce-Locator`` / ``Sforce-NumberOfRecords`` / ``maxRecords``, queryAll, abort."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.api.conftest import Api

from localforce.bootstrap import Services

QUERY = "/jobs/query"


def finished(services: Services, api: Api, soql: str, operation: str = "query") -> str:
    created = api.post(QUERY, {"operation": operation, "query": soql})
    assert created.status_code == 200, created.text
    body = created.json()
    assert (body["state"], body["jobType"], body["object"]) == ("UploadComplete", "V2Query",
                                                               "Account")
    services.bulk.runner.run_pending()
    info = api.get(f"{QUERY}/{body['id']}").json()
    assert info["state"] == "JobComplete"
    return str(body["id"])


def test_query_job_pages_by_locator(services: Services, api: Api) -> None:
    parent = api.post("/sobjects/Account", {"Name": "Parent"}).json()["id"]
    for n in range(5):
        api.post("/sobjects/Account", {"Name": f"Q{n}", "NumberOfEmployees": n,
                                       "ParentId": parent, "Description": "a,\"b\"\nc"})
    job = finished(services, api, "SELECT Id, Name, NumberOfEmployees, Description, Parent.Name "
                                  "FROM Account WHERE Name LIKE 'Q%' ORDER BY Name")
    assert api.get(f"{QUERY}/{job}").json()["numberRecordsProcessed"] == 5
    seen: list[dict[str, str]] = []
    locator, pages = "", []
    while locator != "null":
        params = {"maxRecords": "2", **({"locator": locator} if locator else {})}
        page = api.get(f"{QUERY}/{job}/results", params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(page.text)))
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(rows)
        pages.append(len(rows))
        seen += rows
        locator = page.headers["Sforce-Locator"]
    assert pages == [2, 2, 1]
    assert page.text.startswith('"Id","Name","NumberOfEmployees","Description","Parent.Name"\n')
    assert [(r["Name"], r["NumberOfEmployees"], r["Parent.Name"]) for r in seen] == [
        (f"Q{n}", str(n), "Parent") for n in range(5)]
    assert {r["Description"] for r in seen} == {"a,\"b\"\nc"}


def test_query_all_sees_deleted_rows_and_errors(services: Services, api: Api,
                                                clock: Any) -> None:
    gone = api.post("/sobjects/Account", {"Name": "Gone"}).json()["id"]
    api.delete(f"/sobjects/Account/{gone}")
    plain = finished(services, api, "SELECT Id FROM Account")
    clock.advance(1)  # jobs are listed oldest first
    every = finished(services, api, "SELECT Id, IsDeleted FROM Account", "queryAll")
    assert api.get(f"{QUERY}/{plain}/results").text == '"Id"\n'
    assert api.get(f"{QUERY}/{plain}/results").headers["Sforce-Locator"] == "null"
    assert api.get(f"{QUERY}/{every}/results").text == f'"Id","IsDeleted"\n"{gone}","true"\n'
    bad = api.post(QUERY, {"operation": "query", "query": "SELECT Nope FROM Account"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert [j["id"] for j in api.get(QUERY).json()["records"]] == [plain, every]
    assert api.delete(f"{QUERY}/{plain}").status_code == 204
    assert api.get(f"{QUERY}/{plain}").status_code == 404


def test_jobs_count_against_the_daily_bulk_allocations(services: Services, api: Api) -> None:
    finished(services, api, "SELECT Id FROM Account")
    ingest = api.post("/jobs/ingest", {"object": "Account", "operation": "insert"}).json()
    api.client.put(api.url(f"/jobs/ingest/{ingest['id']}/batches"), content=b"Name\nA\n",
                   headers={**api.headers, "Content-Type": "text/csv"})
    api.patch(f"/jobs/ingest/{ingest['id']}", {"state": "UploadComplete"})
    services.bulk.runner.run_pending()
    limits = api.get("/limits").json()
    assert limits["DailyBulkV2QueryJobs"] == {"Max": 10000, "Remaining": 9999}
    assert limits["DailyBulkApiBatches"] == {"Max": 15000, "Remaining": 14999}
