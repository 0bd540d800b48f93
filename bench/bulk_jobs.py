"""Bulk API 2.0 over 10^6 Accounts: an ingest job's rows/s and peak RSS, then a query job
streaming the same rows (issue #14).

    .venv/bin/python bench/bulk_jobs.py [--rows 1000000] [--workers 2] [--database-url URL]

Builds a fresh home (SQLite unless ``--database-url``) with one admin, starts ``localforce
serve --workers N`` on it (each worker runs a job runner), writes a CSV of ``--rows`` Accounts
(Name, NumberOfEmployees, Industry, BillingCity), then as a client would: creates an insert
job, uploads the file in one streamed ``PUT``, closes it and polls until ``JobComplete``; then
a query job over those rows, polled, and every results page (``maxRecords`` 100,000) read to
the end. Prints rows/s for each and the largest VmRSS any worker reached (sampled every 0.2 s),
and the CPU time the workers used during the ingest per row (the figure other work on a shared
machine moves least). Every answer is checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib.org import BENCH_SETTINGS  # noqa: E402
from benchlib.procs import RssSampler, Server, free_port, running  # noqa: E402

from localforce.bootstrap import build  # noqa: E402
from localforce.security.secretbox import generate_key  # noqa: E402
from localforce.settings import Settings  # noqa: E402

V = "/services/data/v62.0"
INDUSTRIES = ["Energy", "Media", "Banking", "Retail", "Technology"]


def admin_token(settings: Settings) -> str:
    services = build(settings)
    org = services.directory.create_org("Bench")
    user, _ = services.directory.create_user(org.id, "admin@bench.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin")
    token = services.oauth.issuer.issue_session(user).access_token
    services.close()
    return token


def write_csv(path: Path, rows: int) -> int:
    with path.open("w") as out:
        out.write("Name,NumberOfEmployees,Industry,BillingCity\n")
        for n in range(rows):
            out.write(f"Bulk Account {n:07d},{n % 5000},{INDUSTRIES[n % 5]},City{n % 50:02d}\n")
    return path.stat().st_size


def chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as f:
        while data := f.read(size):
            yield data


def wait(client: httpx.Client, url: str) -> dict[str, object]:
    while True:
        info = client.get(url)
        assert info.status_code == 200, info.text
        body: dict[str, object] = info.json()
        if body["state"] in ("JobComplete", "Failed", "Aborted"):
            assert body["state"] == "JobComplete", body
            return body
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-bulk-"))
    url = args.database_url or f"sqlite:///{home / 'lf.db'}"
    key = generate_key()
    settings = Settings(home=home, database_url=url, secret_key=key,
                        daily_api_requests=1_000_000_000)
    token = admin_token(settings)
    data = home / "accounts.csv"
    size = write_csv(data, args.rows)
    print(f"CSV: {args.rows:,} rows, {size / 2**20:.1f} MiB")
    port = free_port()
    env = {**os.environ, **BENCH_SETTINGS, "LOCALFORCE_HOME": str(home),
           "LOCALFORCE_DATABASE_URL": url, "LOCALFORCE_SECRET_KEY": key}
    exe = Path(sys.executable).with_name("localforce")
    server = Server(name="localforce", health_path="/healthz", port=port,
                    log=home / "server.log",
                    argv=[str(exe), "serve", "--port", str(port), "--workers",
                          str(args.workers), "--database-url", url], env=env, cwd=home)
    with running(server), httpx.Client(base_url=server.base_url, timeout=120, headers={
            "Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}) as client:
        with RssSampler(server) as rss:
            job = client.post(f"{V}/jobs/ingest", json={"object": "Account",
                                                        "operation": "insert"}).json()
            began = time.perf_counter()
            put = client.put(f"{V}/jobs/ingest/{job['id']}/batches", content=chunks(data),
                             headers={"Content-Type": "text/csv"})
            assert put.status_code == 201, put.text
            uploaded = time.perf_counter()
            closed = client.patch(f"{V}/jobs/ingest/{job['id']}",
                                  json={"state": "UploadComplete"})
            assert closed.status_code == 200, closed.text
            info = wait(client, f"{V}/jobs/ingest/{job['id']}")
            done = time.perf_counter()
        assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (args.rows, 0)
        ingest_rss = rss.peak_kib / 1024
        print(f"ingest: upload {uploaded - began:.1f} s, processing {done - uploaded:.1f} s "
              f"-> {args.rows / (done - uploaded):,.0f} rows/s processed, "
              f"{args.rows / (done - began):,.0f} rows/s end to end; "
              f"peak RSS per worker {ingest_rss:.0f} MiB; workers' CPU "
              f"{rss.cpu_s / args.rows * 1e6:.1f} us/row")

        with RssSampler(server) as rss:
            began = time.perf_counter()
            job = client.post(f"{V}/jobs/query", json={
                "operation": "query",
                "query": "SELECT Id, Name, NumberOfEmployees, Industry, BillingCity "
                         "FROM Account"}).json()
            wait(client, f"{V}/jobs/query/{job['id']}")
            ready = time.perf_counter()
            rows, locator = 0, ""
            while locator != "null":
                params = {"maxRecords": "100000", **({"locator": locator} if locator else {})}
                with client.stream("GET", f"{V}/jobs/query/{job['id']}/results",
                                   params=params) as page:
                    assert page.status_code == 200
                    lines = sum(chunk.count(b"\n") for chunk in page.iter_bytes())
                    rows += int(page.headers["Sforce-NumberOfRecords"])
                    assert lines == int(page.headers["Sforce-NumberOfRecords"]) + 1
                    locator = page.headers["Sforce-Locator"]
            done = time.perf_counter()
        assert rows == args.rows, rows
        print(f"query: job {ready - began:.1f} s, download {done - ready:.1f} s -> "
              f"{rows / (done - began):,.0f} rows/s end to end "
              f"({rows / (done - ready):,.0f} rows/s download); "
              f"peak RSS per worker {rss.peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
