"""simple-salesforce's ``sf.bulk2`` and ``sf.bulk``, unmodified, against ``serve --tls``: the
jobs run on the server's background runner, as on Salesforce. Also a server killed in the middle of a job and
started again: the job resumes and every row is applied exactly once."""

from __future__ import annotations

import csv
import io
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from tests.clients.server import LiveServer, start_server, stop_server

pytestmark = pytest.mark.clients

ROWS = 10_000
WAIT = 0.2  # simple-salesforce sleeps this long between polls (its default is 5 s)


def client(server: LiveServer) -> Salesforce:
    session = requests.Session()
    session.verify = str(server.ca)
    session.trust_env = False
    return Salesforce(session_id=server.access_token(), instance_url=server.url,
                      session=session, version="59.0")


@pytest.fixture(scope="module")
def sf(live_server: LiveServer) -> Iterator[Salesforce]:
    sf = client(live_server)
    yield sf
    sf.session.close()


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_insert_10000_rows_reports_the_failed_ones(sf: Salesforce) -> None:
    # every 1,000th row has no Name: Salesforce fails just those rows
    records = [{"Name": "" if n % 1000 == 7 else f"Bulk2 {n:05d}",
                "NumberOfEmployees": str(n), "Site": "bulk2"} for n in range(ROWS)]
    [result] = sf.bulk2.Account.insert(records=records, wait=WAIT)
    assert result["numberRecordsTotal"] == ROWS
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (ROWS, 10)
    failed = parse(sf.bulk2.Account.get_failed_records(result["job_id"]))
    assert sorted(int(r["NumberOfEmployees"]) for r in failed) == list(range(7, ROWS, 1000))
    assert {r["sf__Error"] for r in failed} == {
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"}
    done = parse(sf.bulk2.Account.get_successful_records(result["job_id"]))
    assert len(done) == ROWS - 10 and {r["sf__Created"] for r in done} == {"true"}
    assert sf.query("SELECT COUNT() FROM Account WHERE Site = 'bulk2'")["totalSize"] == \
        ROWS - 10
    one = sf.Account.get(done[0]["sf__Id"])
    assert (one["Name"], one["NumberOfEmployees"]) == (done[0]["Name"],
                                                       int(done[0]["NumberOfEmployees"]))


def test_query_pages_through_every_row(sf: Salesforce) -> None:
    """``sf.bulk2.Account.query`` yields one CSV page per ``maxRecords`` (after the insert
    test's 9,990 rows)."""
    pages = list(sf.bulk2.Account.query(
        "SELECT Name, NumberOfEmployees FROM Account WHERE Site = 'bulk2' ORDER BY Name",
        max_records=4000, wait=WAIT))
    rows = [r for page in pages for r in parse(page)]
    assert [len(parse(page)) for page in pages] == [4000, 4000, ROWS - 10 - 8000]
    assert [r["Name"] for r in rows] == sorted(
        f"Bulk2 {n:05d}" for n in range(ROWS) if n % 1000 != 7)
    assert rows[0] == {"Name": "Bulk2 00000", "NumberOfEmployees": "0"}


def test_upsert_update_and_delete(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "Upsert me", "Site": "bulk2-upsert"})["id"]
    [result] = sf.bulk2.Account.upsert(
        records=[{"Id": first, "Name": "Upserted"}, {"Id": "", "Name": "New one"}],
        external_id_field="Id", wait=WAIT)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
    done = parse(sf.bulk2.Account.get_successful_records(result["job_id"]))
    assert [(r["sf__Created"], r["Name"]) for r in done] == [
        ("false", "Upserted"), ("true", "New one")]
    assert sf.Account.get(first)["Name"] == "Upserted"
    [updated] = sf.bulk2.Account.update(records=[{"Id": first, "Site": "bulk2-updated"}],
                                        wait=WAIT)
    assert updated["numberRecordsFailed"] == 0
    assert sf.Account.get(first)["Site"] == "bulk2-updated"
    [deleted] = sf.bulk2.Account.delete(records=[{"Id": first}, {"Id": done[1]["sf__Id"]}],
                                        wait=WAIT)
    assert (deleted["numberRecordsProcessed"], deleted["numberRecordsFailed"]) == (2, 0)
    assert sf.query(f"SELECT COUNT() FROM Account WHERE Id = '{first}'")["totalSize"] == 0


def test_bulk_1_insert_and_query(sf: Salesforce) -> None:
    """``sf.bulk`` (Bulk API 1.0, JSON, ``X-SFDC-Session``)."""
    results = sf.bulk.Account.insert([{"Name": "Classic A", "Site": "bulk1"}, {"Site": "bulk1"},
                                      {"Name": "Classic B", "Site": "bulk1"}])
    assert [(r["success"], r["created"]) for r in results] == [
        (True, True), (False, False), (True, True)]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    rows = sf.bulk.Account.query("SELECT Id, Name FROM Account WHERE Site = 'bulk1' "
                                 "ORDER BY Name", lazy_operation=False, wait=1)
    assert [r["Name"] for r in rows] == ["Classic A", "Classic B"]
    assert rows[0]["Id"] == results[0]["id"]


def job_info(server: LiveServer, token: str, job_id: str) -> dict[str, object]:
    with server.http() as http:
        response = http.get(f"/services/data/v59.0/jobs/ingest/{job_id}",
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_server_killed_mid_job_resumes_it_after_restart(tmp_path: Path) -> None:
    """SIGKILL while the runner is between transactions; the restarted server takes the job
    over once the dead runner's lease (1 s here) has run out."""
    folder = tmp_path / "restart"
    settings = {"LOCALFORCE_BULK_LEASE_SECONDS": "1"}
    server = start_server(folder, True, settings=settings)
    try:
        sf = client(server)
        token = sf.session_id
        rows = 25_000  # three transactions
        data = "Name,Site\n" + "".join(f"Resumed {n:05d},restart\n" for n in range(rows))
        job = sf.bulk2.Account._client.create_job("insert")
        sf.bulk2.Account._client.upload_job_data(job["id"], data)
        sf.bulk2.Account._client.close_job(job["id"])
        while job_info(server, token, job["id"])["numberRecordsProcessed"] == 0:
            time.sleep(0.02)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    except BaseException:
        stop_server(server)
        raise
    port = int(server.url.rsplit(":", 1)[1])
    server = start_server(folder, True, settings=settings, port=port)
    try:
        token = server.access_token()
        info = job_info(server, token, job["id"])
        assert info["state"] in ("InProgress", "JobComplete")
        assert 0 < info["numberRecordsProcessed"] <= rows  # type: ignore[operator]
        while (info := job_info(server, token, job["id"]))["state"] == "InProgress":
            time.sleep(0.1)
        assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
            "JobComplete", rows, 0)
        sf = client(server)
        assert sf.query("SELECT COUNT() FROM Account WHERE Site = 'restart'")["totalSize"] == rows
        names = parse(sf.bulk2.Account.get_successful_records(job["id"]))
        assert sorted(r["Name"] for r in names) == [f"Resumed {n:05d}" for n in range(rows)]
    finally:
        stop_server(server)
