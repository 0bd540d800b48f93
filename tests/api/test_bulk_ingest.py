"""Bulk API 2.0 ingest jobs through the ASGI app: create, upload, close, the runner's work,
results, the state machine, permissions, malformed files and a resumed job.

The runner is driven by hand (``run_pending``) so every assertion sees a finished job; the
background thread is ``serve``'s (tests/clients run it for real)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine
from starlette.testclient import TestClient
from tests.api.backends import on_both_backends  # noqa: F401
from tests.api.conftest import Api

from localforce.bootstrap import Services
from localforce.domain.principal import Principal
from localforce.settings import Settings

INGEST = "/jobs/ingest"


def create(api: Api, **body: Any) -> dict[str, Any]:
    response = api.post(INGEST, {"contentType": "CSV", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def upload(api: Api, job_id: str, data: str | bytes, **headers: str) -> Any:
    return api.client.put(api.url(f"{INGEST}/{job_id}/batches"),
                          content=data if isinstance(data, bytes) else data.encode(),
                          headers={**api.headers, "Content-Type": "text/csv", **headers})


def close(api: Api, job_id: str) -> Any:
    return api.patch(f"{INGEST}/{job_id}", {"state": "UploadComplete"})


def run_job(services: Services, api: Api, operation: str, data: str, **extra: Any
            ) -> dict[str, Any]:
    job = create(api, object="Account", operation=operation, **extra)
    assert upload(api, job["id"], data).status_code == 201
    assert close(api, job["id"]).status_code == 200
    services.bulk.runner.run_pending()
    info = api.get(f"{INGEST}/{job['id']}")
    assert info.status_code == 200
    return dict(info.json())


def rows(api: Api, job_id: str, which: str) -> list[dict[str, str]]:
    response = api.get(f"{INGEST}/{job_id}/{which}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_insert_job_from_create_to_results(services: Services, api: Api) -> None:
    job = create(api, object="Account", operation="insert")
    assert job["state"] == "Open" and job["id"].startswith("750") and job["object"] == "Account"
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"
    assert {job["columnDelimiter"], job["lineEnding"], job["contentType"]} == {
        "COMMA", "LF", "CSV"}
    data = 'Name,NumberOfEmployees,Description\nAcme,10,"two\nlines"\n,5,no name\nBeta,x,\n'
    assert upload(api, job["id"], data).status_code == 201
    closed = close(api, job["id"])
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    services.bulk.runner.run_pending()
    info = api.get(f"{INGEST}/{job['id']}").json()
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 2)
    assert info["jobType"] == "V2Ingest" and "contentUrl" not in info
    done = rows(api, job["id"], "successfulResults")
    assert [(r["sf__Created"], r["Name"], r["Description"]) for r in done] == [
        ("true", "Acme", "two\nlines")]
    record = api.get(f"/sobjects/Account/{done[0]['sf__Id']}").json()
    assert (record["Name"], record["NumberOfEmployees"]) == ("Acme", 10)
    failed = rows(api, job["id"], "failedResults")
    assert [r["sf__Error"].split(":")[0] for r in failed] == [
        "REQUIRED_FIELD_MISSING", "JSON_PARSER_ERROR"]
    assert failed[0]["sf__Error"] == \
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    assert rows(api, job["id"], "unprocessedrecords") == []


def test_update_upsert_delete(services: Services, api: Api) -> None:
    api.post("/sobjects/Account", {"Name": "Old", "AccountNumber": "A-1", "Site": "keep"})
    first = api.post("/sobjects/Account", {"Name": "Other"}).json()["id"]
    info = run_job(services, api, "update", f"Id,Name,Site\n{first},Renamed,#N/A\n"
                   "001000000000000AAA,Ghost,\n")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 1)
    record = api.get(f"/sobjects/Account/{first}").json()
    assert (record["Name"], record["Site"]) == ("Renamed", None)

    upserted = run_job(services, api, "upsert", "Id,Name\n" + f"{first},Again\n,Fresh\n",
                       externalIdFieldName="Id")
    assert upserted["externalIdFieldName"] == "Id" and upserted["numberRecordsFailed"] == 0
    results = rows(api, upserted["id"], "successfulResults")
    assert [(r["sf__Created"], r["Name"]) for r in results] == [
        ("false", "Again"), ("true", "Fresh")]
    assert results[0]["sf__Id"] == first

    deleted = run_job(services, api, "delete", f"Id\n{first}\n{first}\n")
    assert (deleted["numberRecordsProcessed"], deleted["numberRecordsFailed"]) == (2, 1)
    assert rows(api, deleted["id"], "failedResults")[0]["sf__Error"].startswith(
        "ENTITY_IS_DELETED:")
    assert api.get(f"/sobjects/Account/{first}").status_code == 404


def test_without_create_every_row_fails_with_salesforces_error(
        services: Services, make_user: Callable[..., Principal],
        api_as: Callable[[Principal], Api]) -> None:
    reader = api_as(make_user(grants={"Account": ["read"]}))
    info = run_job(services, reader, "insert", "Name\nA\nB\n")
    assert info["state"] == "JobComplete"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (2, 2)
    errors = {r["sf__Error"] for r in rows(reader, info["id"], "failedResults")}
    assert errors == {"INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object "
                      "id: --"}


def test_jobs_are_their_creators(services: Services, api: Api,
                                 make_user: Callable[..., Principal],
                                 api_as: Callable[[Principal], Api]) -> None:
    job = create(api, object="Account", operation="insert")
    other = api_as(make_user("System Administrator"))
    assert other.get(f"{INGEST}/{job['id']}").status_code == 404
    assert upload(other, job["id"], "Name\nX\n").status_code == 404
    assert other.get(INGEST).json()["records"] == []
    assert [j["id"] for j in api.get(INGEST).json()["records"]] == [job["id"]]


@pytest.mark.parametrize(("data", "message"), [
    ("Name\nA\n\"B\n", "ClientInputError : LineNumber: 3 : Malformed CSV: unexpected end of "
     "data"),
    ("Name,Site\nA,x\nB\n", "ClientInputError : LineNumber: 3 : Wrong number of columns: "
     "found 1, the header has 2"),
    ("Name,Nope__x\nA,1\n", "InvalidBatch : Field name not found : Nope__x"),
    (b"Name\n\xff\n", "ClientInputError : LineNumber: 1 : The file is not valid UTF-8"),
])
def test_a_malformed_file_fails_the_job_with_nothing_written(
        services: Services, api: Api, data: str | bytes, message: str) -> None:
    job = create(api, object="Account", operation="insert")
    assert upload(api, job["id"], data).status_code == 201
    close(api, job["id"])
    services.bulk.runner.run_pending()
    info = api.get(f"{INGEST}/{job['id']}").json()
    assert (info["state"], info["errorMessage"]) == ("Failed", message)
    assert info["numberRecordsProcessed"] == 0
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 0


def test_state_machine_errors(services: Services, api: Api) -> None:
    job = create(api, object="Account", operation="insert")
    assert api.patch(f"{INGEST}/{job['id']}", {"state": "JobComplete"}).status_code == 400
    assert upload(api, job["id"], "Name\nA\n").status_code == 201
    assert upload(api, job["id"], "Name\nB\n").status_code == 409
    assert close(api, job["id"]).status_code == 200
    assert close(api, job["id"]).status_code == 409
    assert api.delete(f"{INGEST}/{job['id']}").status_code == 409
    aborted = api.patch(f"{INGEST}/{job['id']}", {"state": "Aborted"})
    assert aborted.status_code == 200 and aborted.json()["state"] == "Aborted"
    services.bulk.runner.run_pending()
    assert api.get(f"{INGEST}/{job['id']}").json()["state"] == "Aborted"
    assert [r["Name"] for r in rows(api, job["id"], "unprocessedrecords")] == ["A"]
    assert api.delete(f"{INGEST}/{job['id']}").status_code == 204
    assert api.get(f"{INGEST}/{job['id']}").status_code == 404
    bad = api.post(INGEST, {"object": "Account", "operation": "merge"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALIDJOB"
    assert api.post(INGEST, {"object": "Nope", "operation": "insert"}).status_code == 404


def test_a_job_resumes_after_its_last_committed_transaction(services: Services,
                                                            api: Api, clock: Any) -> None:
    """A runner that died after its first transaction: its lease runs out and the next
    runner applies the rest, each row exactly once."""
    runner = services.bulk.runner
    runner.rows_per_transaction = 2
    job = create(api, object="Account", operation="insert")
    upload(api, job["id"], "Name\n" + "".join(f"R{i}\n" for i in range(5)))
    close(api, job["id"])
    claimed = services.bulk.ingest.store.claim("dead-runner", int(clock() * 1000), 1000)
    assert claimed is not None
    dead = type(runner)(runner.store, runner.records, runner.principal_of, runner.clock,
                        lease_seconds=1, rows_per_transaction=2)
    dead.name = "dead-runner"
    principal = runner.principal_of(claimed.org_id, claimed.user_id)
    assert principal is not None
    columns = dead._columns(principal, claimed, ["Name"])
    reader = iter([(2, ["R0"]), (3, ["R1"]), (4, ["R2"])])
    assert dead._batch(principal, claimed, columns, ["Name"], reader)  # then it "dies"
    runner.run_pending()
    assert api.get(f"{INGEST}/{job['id']}").json()["state"] == "InProgress"  # lease held
    clock.advance(2)
    runner.run_pending()
    info = api.get(f"{INGEST}/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("JobComplete", 5)
    names = sorted(r["Name"] for r in api.query("SELECT Name FROM Account").json()["records"])
    assert names == [f"R{i}" for i in range(5)]


def test_hard_delete_needs_the_bulk_api_hard_delete_permission(
        services: Services, org: Any, api: Api, api_as: Callable[..., Api], clock: Any) -> None:
    """Off for everyone by default, System Administrator included, as on Salesforce: the job
    is refused (FEATURENOTENABLED, what the sf CLI looks for). Granted through a permission
    set, the records go for good: no recycle bin, no ``queryAll`` row, no ``/deleted``
    entry, no search hit."""
    import datetime as dt

    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    refused = api.post(INGEST, {"object": "Account", "operation": "hardDelete"})
    assert refused.status_code == 400
    assert refused.json() == [{"errorCode": "FEATURENOTENABLED", "message": (
        "hardDelete requires the Bulk API Hard Delete permission, which the user's profile or "
        "permission sets do not grant")}]
    assert api.query("SELECT PermissionsBulkApiHardDelete FROM Profile WHERE Name = "
                     "'System Administrator'").json()["records"][0][
        "PermissionsBulkApiHardDelete"] is False

    made = [api.post("/sobjects/Account", {"Name": f"Purge {n}"}).json()["id"] for n in range(3)]
    org_id = org.id
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org_id, "Purgers", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read", "create", "edit",
                                                         "delete"})})))
    user, _ = services.directory.create_user(org_id, "purger@acme.test", "Passw0rd-long!",
                                             "Standard User", permission_sets=("Purgers",))
    purger = api_as(principal_of(services, user))
    start = clock()
    info = run_job(services, purger, "hardDelete",
                   f"Id\n{made[0]}\n{made[1][:15]}\n001000000000000AAA\n")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 1)
    assert [r["sf__Id"] for r in rows(purger, info["id"], "successfulResults")] == made[:2]
    failed = rows(purger, info["id"], "failedResults")
    assert [r["sf__Error"].split(":")[0] for r in failed] == ["NOT_FOUND"]
    for record_id in made[:2]:
        assert api.get(f"/sobjects/Account/{record_id}").status_code == 404
    everything = api.get("/queryAll", params={"q": "SELECT Id FROM Account"}).json()
    assert [r["Id"] for r in everything["records"]] == [made[2]]
    clock.advance(120)
    window = {"start": dt.datetime.fromtimestamp(start - 60, dt.UTC).isoformat(),
              "end": dt.datetime.fromtimestamp(clock() + 60, dt.UTC).isoformat()}
    assert api.get("/sobjects/Account/deleted", params=window).json()["deletedRecords"] == []
    found = api.get("/search", params={"q": "FIND {purge} RETURNING Account(Id)"}).json()
    assert [r["Id"] for r in found["searchRecords"]] == [made[2]]


def test_hard_delete_permission_alone_does_not_delete_what_the_user_may_not(
        services: Services, org: Any, api: Api, api_as: Callable[..., Api]) -> None:
    """Bulk API Hard Delete without Delete on the object: the job is created, every row fails
    with the object permission's error and the records stay."""
    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    kept = api.post("/sobjects/Account", {"Name": "Keep Me"}).json()["id"]
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "HardButReadOnly", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read"})})))
    user, _ = services.directory.create_user(org.id, "reader@acme.test", "Passw0rd-long!",
                                             "Read Only", permission_sets=("HardButReadOnly",))
    reader = api_as(principal_of(services, user))
    info = run_job(services, reader, "hardDelete", f"Id\n{kept}\n")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (1, 1)
    assert [r["sf__Error"] for r in rows(reader, info["id"], "failedResults")] == [
        "INSUFFICIENT_ACCESS_OR_READONLY:insufficient access rights on object "
        "id: --"]
    assert api.get(f"/sobjects/Account/{kept}").status_code == 200


def test_a_large_load_on_postgresql_leaves_its_table_analyzed(
        services: Services, api: Api, client: TestClient, settings: Settings) -> None:
    """A finished load as large as autovacuum's threshold analyzes its table (the first
    queries after it get plans made with statistics); a small one leaves that to autovacuum,
    and a query job, which changes nothing, never analyzes."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner statistics")
    engine = create_engine(settings.database_url)

    def estimated_rows() -> float:
        with engine.connect() as c:
            return float(c.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'sobject_account'").scalar_one())

    def analyses() -> int:
        with engine.connect() as c:
            return int(c.exec_driver_sql(
                "SELECT analyze_count FROM pg_stat_user_tables "
                "WHERE relname = 'sobject_account'").scalar_one())

    try:
        small = run_job(services, api, "insert", "Name\n" + "".join(
            f"Small {i}\n" for i in range(10)))
        assert (small["state"], small["numberRecordsProcessed"]) == ("JobComplete", 10)
        assert estimated_rows() == -1  # never analyzed
        large = run_job(services, api, "insert", "Name\n" + "".join(
            f"Large {i}\n" for i in range(60)))
        assert (large["state"], large["numberRecordsProcessed"]) == ("JobComplete", 60)
        assert estimated_rows() == 70
        analyzed = analyses()
        assert analyzed >= 1
        query = api.post("/jobs/query", {"operation": "query", "query": "SELECT Id FROM Account"})
        assert query.status_code == 200, query.text
        services.bulk.runner.run_pending()
        done = api.get(f"/jobs/query/{query.json()['id']}").json()
        assert (done["state"], done["numberRecordsProcessed"]) == ("JobComplete", 70)
        # and a Bulk API 1.0 query batch (a job row of kind "batch", operation "query")
        headers = {"X-SFDC-Session": api.headers["Authorization"].split(" ", 1)[1],
                   "Content-Type": "application/json"}
        classic = client.post("/services/async/59.0/job", headers=headers, content=json.dumps(
            {"operation": "query", "object": "Account", "contentType": "JSON"})).json()
        batch = client.post(f"/services/async/59.0/job/{classic['id']}/batch", headers=headers,
                            content="SELECT Id FROM Account").json()
        services.bulk.runner.run_pending()
        info = client.get(f"/services/async/59.0/job/{classic['id']}/batch/{batch['id']}",
                          headers=headers).json()
        assert (info["state"], info["numberRecordsProcessed"]) == ("Completed", 70)
        assert analyses() == analyzed
    finally:
        engine.dispose()
