"""Bulk API 1.0 through the ASGI app: JSON jobs as simple-salesforce sends them, XML jobs
with CSV batches as jsforce sends them, the session in ``X-SFDC-Session``, its error shape."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient
from tests.api.conftest import Api

from localforce.bootstrap import Services

BASE = "/services/async/59.0"
NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


def session(api: Api) -> str:
    return api.headers["Authorization"].split(" ", 1)[1]


def test_json_insert_and_query(services: Services, api: Api, client: TestClient) -> None:
    headers = {"X-SFDC-Session": session(api), "Content-Type": "application/json"}
    job = client.post(f"{BASE}/job", headers=headers, content=json.dumps(
        {"operation": "insert", "object": "Account", "contentType": "JSON"}))
    assert job.status_code == 201, job.text
    assert (job.json()["state"], job.json()["contentType"]) == ("Open", "JSON")
    assert "Sforce-Limit-Info" in job.headers
    job_id = job.json()["id"]
    batch = client.post(f"{BASE}/job/{job_id}/batch", headers=headers, content=json.dumps(
        [{"Name": "Classic 1", "NumberOfEmployees": 3}, {"NumberOfEmployees": 4}]))
    assert batch.status_code == 201 and batch.json()["state"] == "Queued"
    services.bulk.runner.run_pending()
    info = client.get(f"{BASE}/job/{job_id}/batch/{batch.json()['id']}", headers=headers)
    assert (info.json()["state"], info.json()["numberRecordsProcessed"],
            info.json()["numberRecordsFailed"]) == ("Completed", 2, 1)
    results = client.get(f"{BASE}/job/{job_id}/batch/{batch.json()['id']}/result",
                         headers=headers).json()
    assert results[0]["success"] is True and results[0]["created"] is True
    assert results[1] == {"id": None, "success": False, "created": False, "errors": [{
        "fields": ["Name"], "message": "Required fields are missing: [Name]",
        "statusCode": "REQUIRED_FIELD_MISSING"}]}
    closed = client.post(f"{BASE}/job/{job_id}", headers=headers,
                         content=json.dumps({"state": "Closed"}))
    assert (closed.json()["state"], closed.json()["numberBatchesCompleted"],
            closed.json()["numberRecordsProcessed"]) == ("Closed", 1, 2)

    query = client.post(f"{BASE}/job", headers=headers, content=json.dumps(
        {"operation": "query", "object": "Account", "contentType": "JSON"})).json()
    qbatch = client.post(f"{BASE}/job/{query['id']}/batch", headers=headers,
                         content="SELECT Id, Name FROM Account").json()
    services.bulk.runner.run_pending()
    [result] = client.get(f"{BASE}/job/{query['id']}/batch/{qbatch['id']}/result",
                          headers=headers).json()
    records = client.get(f"{BASE}/job/{query['id']}/batch/{qbatch['id']}/result/{result}",
                         headers=headers).json()
    assert [(r["Name"], r["attributes"]["type"]) for r in records] == [("Classic 1", "Account")]


def test_xml_job_with_csv_batch(services: Services, api: Api, client: TestClient) -> None:
    headers = {"X-SFDC-Session": session(api), "Content-Type": "application/xml"}
    body = (f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS[1:-1]}">'
            "<operation>insert</operation><object>Account</object>"
            "<contentType>CSV</contentType></jobInfo>")
    job = client.post(f"{BASE}/job", headers=headers, content=body)
    assert job.status_code == 201 and job.headers["content-type"].startswith("application/xml")
    job_id = ET.fromstring(job.content).findtext(f"{NS}id")
    batch = client.post(f"{BASE}/job/{job_id}/batch", content="Name,Site\nCsv Co,x\n,y\n",
                        headers={"X-SFDC-Session": session(api), "Content-Type": "text/csv"})
    assert ET.fromstring(batch.content).findtext(f"{NS}state") == "Queued"
    batch_id = ET.fromstring(batch.content).findtext(f"{NS}id")
    services.bulk.runner.run_pending()
    result = client.get(f"{BASE}/job/{job_id}/batch/{batch_id}/result",
                        headers={"X-SFDC-Session": session(api)})
    rows = list(csv.DictReader(io.StringIO(result.text)))
    assert [(r["Success"], r["Created"]) for r in rows] == [("true", "true"),
                                                           ("false", "false")]
    assert rows[1]["Error"] == "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:" \
        "Name --"
    listed = client.get(f"{BASE}/job/{job_id}/batch", headers=headers)
    assert [e.findtext(f"{NS}state") for e in ET.fromstring(listed.content)] == ["Completed"]


def test_errors_in_the_bulk_shape(api: Api, client: TestClient) -> None:
    bad = client.post(f"{BASE}/job", headers={"X-SFDC-Session": "00D!nope",
                                              "Content-Type": "application/xml"}, content="x")
    assert bad.status_code == 400
    error = ET.fromstring(bad.content)
    assert error.findtext(f"{NS}exceptionCode") == "InvalidSessionId"
    missing = client.get(f"{BASE}/job/750000000000000AAA", headers={
        "X-SFDC-Session": session(api), "Content-Type": "application/json"})
    assert missing.status_code == 400 and missing.json() == {
        "exceptionCode": "InvalidJob",
        "exceptionMessage": "Unable to find job with id: 750000000000000AAA"}


def test_hard_delete_jobs_need_the_bulk_api_hard_delete_permission(
        services: Services, org: Any, api: Api, client: TestClient,
        api_as: Callable[..., Api]) -> None:
    """``hardDelete`` as simple-salesforce's ``sf.bulk.Account.hard_delete`` (a JSON job and
    batch) and jsforce's ``bulk.load('Account', 'hardDelete', …)`` (an XML job, a CSV batch)
    send it: refused without "Bulk API Hard Delete" (System Administrator included, as on
    Salesforce), and with it the records go for good."""
    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    json_headers = {"X-SFDC-Session": session(api), "Content-Type": "application/json"}
    refused = client.post(f"{BASE}/job", headers=json_headers, content=json.dumps(
        {"operation": "hardDelete", "object": "Account", "contentType": "JSON"}))
    assert (refused.status_code, refused.json()) == (400, {
        "exceptionCode": "FeatureNotEnabled",
        "exceptionMessage": "hardDelete requires the Bulk API Hard Delete permission, which "
                            "the user's profile or permission sets do not grant"})

    made = [api.post("/sobjects/Account", {"Name": f"Purge {n}"}).json()["id"]
            for n in range(4)]
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "Purgers", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read", "edit", "delete"})})))
    user, _ = services.directory.create_user(org.id, "purger@acme.test", "Passw0rd-long!",
                                             "Standard User", permission_sets=("Purgers",))
    purger = session(api_as(principal_of(services, user)))

    headers = {"X-SFDC-Session": purger, "Content-Type": "application/json"}
    job = client.post(f"{BASE}/job", headers=headers, content=json.dumps(
        {"operation": "hardDelete", "object": "Account", "contentType": "JSON"}))
    assert job.status_code == 201 and job.json()["operation"] == "hardDelete"
    batch = client.post(f"{BASE}/job/{job.json()['id']}/batch", headers=headers,
                        content=json.dumps([{"Id": made[0]}, {"Id": "001000000000000AAA"}]))
    services.bulk.runner.run_pending()
    results = client.get(f"{BASE}/job/{job.json()['id']}/batch/{batch.json()['id']}/result",
                         headers=headers).json()
    assert results == [
        {"id": made[0], "success": True, "created": False, "errors": []},
        {"id": None, "success": False, "created": False, "errors": [{
            "fields": [], "message": "The requested resource does not exist",
            "statusCode": "NOT_FOUND"}]}]

    xml = {"X-SFDC-Session": purger, "Content-Type": "application/xml"}
    body = (f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS[1:-1]}">'
            "<operation>hardDelete</operation><object>Account</object>"
            "<contentType>CSV</contentType></jobInfo>")
    job_id = ET.fromstring(client.post(f"{BASE}/job", headers=xml, content=body).content
                           ).findtext(f"{NS}id")
    batch_id = ET.fromstring(client.post(
        f"{BASE}/job/{job_id}/batch", content=f"Id\n{made[1]}\n{made[2]}\n",
        headers={"X-SFDC-Session": purger, "Content-Type": "text/csv"}).content
    ).findtext(f"{NS}id")
    services.bulk.runner.run_pending()
    result = client.get(f"{BASE}/job/{job_id}/batch/{batch_id}/result",
                        headers={"X-SFDC-Session": purger})
    assert [(r["Id"], r["Success"]) for r in csv.DictReader(io.StringIO(result.text))] == [
        (made[1], "true"), (made[2], "true")]
    everything = api.get("/queryAll", params={"q": "SELECT Id FROM Account"}).json()
    assert [r["Id"] for r in everything["records"]] == [made[3]]


def test_hard_delete_without_delete_on_the_object_fails_each_record(
        services: Services, org: Any, api: Api, client: TestClient,
        api_as: Callable[..., Api]) -> None:
    from tests.api.conftest import principal_of

    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, PermissionSet

    kept = api.post("/sobjects/Account", {"Name": "Keep"}).json()["id"]
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "HardButReadOnly", bulk_api_hard_delete=True,
        objects=ObjectPermissions({"Account": frozenset({"read"})})))
    user, _ = services.directory.create_user(org.id, "reader@acme.test", "Passw0rd-long!",
                                             "Read Only", permission_sets=("HardButReadOnly",))
    headers = {"X-SFDC-Session": session(api_as(principal_of(services, user))),
               "Content-Type": "application/json"}
    job = client.post(f"{BASE}/job", headers=headers, content=json.dumps(
        {"operation": "hardDelete", "object": "Account", "contentType": "JSON"})).json()
    batch = client.post(f"{BASE}/job/{job['id']}/batch", headers=headers,
                        content=json.dumps([{"Id": kept}])).json()
    services.bulk.runner.run_pending()
    results = client.get(f"{BASE}/job/{job['id']}/batch/{batch['id']}/result",
                         headers=headers).json()
    assert results == [{"id": None, "success": False, "created": False, "errors": [{
        "fields": [], "message": "insufficient access rights on object id",
        "statusCode": "INSUFFICIENT_ACCESS_OR_READONLY"}]}]
    assert api.get(f"/sobjects/Account/{kept}").status_code == 200


def test_a_runner_that_claims_a_batch_as_soon_as_it_is_queued_reads_its_records(
        services: Services, api: Api, client: TestClient, monkeypatch: Any) -> None:
    """A batch is claimable (Queued) from the commit that creates it: a runner in another
    worker may claim it at once. Its records commit with it — a CI run of jsforce's
    ``bulk.load`` got a Completed batch with no results, its CSV claimed between the batch's
    commit and its data's."""
    store = services.bulk.classic.store
    create = store.create

    def create_then_run(job: Any, upload: bytes | None = None) -> None:
        create(job, upload)
        services.bulk.runner.run_once()  # the other worker's runner, right after the commit

    monkeypatch.setattr(store, "create", create_then_run)
    headers = {"X-SFDC-Session": session(api), "Content-Type": "application/xml"}
    job_id = ET.fromstring(client.post(f"{BASE}/job", headers=headers, content=(
        f'<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="{NS[1:-1]}">'
        "<operation>insert</operation><object>Account</object>"
        "<contentType>CSV</contentType></jobInfo>")).content).findtext(f"{NS}id")
    batch = client.post(f"{BASE}/job/{job_id}/batch", content="Name,Site\nRaced,x\n,y\n",
                        headers={"X-SFDC-Session": session(api), "Content-Type": "text/csv"})
    batch_id = ET.fromstring(batch.content).findtext(f"{NS}id")
    info = ET.fromstring(client.get(f"{BASE}/job/{job_id}/batch/{batch_id}",
                                    headers=headers).content)
    assert (info.findtext(f"{NS}state"), info.findtext(f"{NS}numberRecordsProcessed"),
            info.findtext(f"{NS}numberRecordsFailed")) == ("Completed", "2", "1")
    result = client.get(f"{BASE}/job/{job_id}/batch/{batch_id}/result",
                        headers={"X-SFDC-Session": session(api)})
    assert [(r["Success"], r["Created"]) for r in csv.DictReader(io.StringIO(result.text))] \
        == [("true", "true"), ("false", "false")]
