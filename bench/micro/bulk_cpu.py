"""CPU per row of Bulk API 2.0 jobs, in process: the job resources and the runner as ``serve``
builds them, driven without HTTP (issue #14).

    .venv/bin/python bench/micro/bulk_cpu.py [--rows 100000] [--ops insert,query,...]
                                             [--database-url URL] [--profile OP]

A fresh home (SQLite unless ``--database-url``; PostgreSQL gets a fresh schema per run
through the URL's database being reset by the caller) with one admin. Then, in order, each
operation asked for over the same ``--rows`` Accounts: ``insert`` (the bench's CSV: Name,
NumberOfEmployees, Industry, BillingCity), ``query`` (a query job over them, 5 columns, and
every result page read as a client would), ``update`` (Id + 2 columns), ``upsert`` (by an
external ID field, half the rows matching, half new), ``delete``. Prints per operation the
process CPU seconds (``time.process_time``: this process and, for SQLite, the database work
it does in it) per 10^5 rows and µs per row. ``--profile OP``: a cProfile of that operation
on the CPU clock, printed after it (by own time, then cumulative). Run before/after versions
alternately on a shared machine (``PYTHONPATH=<checkout>/src``) and compare ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from localforce.bootstrap import Services, build
from localforce.domain.models import Access
from localforce.domain.principal import Principal
from localforce.security.secretbox import generate_key
from localforce.settings import Settings

INDUSTRIES = ["Energy", "Media", "Banking", "Retail", "Technology"]
VERSION = "62.0"
QUERY = "SELECT Id, Name, NumberOfEmployees, Industry, BillingCity FROM Account"


def admin(services: Services) -> Principal:
    org = services.directory.create_org("Bench")
    user, _ = services.directory.create_user(org.id, "admin@bench.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin")
    store = services.directory.store
    profile = store.get_profile(user.profile_id)
    assert profile is not None
    return Principal(org.id, user.id, user.username, None, None, ("api",),
                     Access.of(profile, ()), "0" * 64)


def chunked(lines: Iterator[str], size: int = 1 << 20) -> Iterator[bytes]:
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode()
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode()


def ingest(services: Services, principal: Principal, operation: str, lines: Iterator[str],
           **extra: str) -> dict[str, Any]:
    jobs = services.bulk.ingest
    job = jobs.create(principal, {"object": "Account", "operation": operation,
                                  "contentType": "CSV", **extra}, VERSION)
    jobs.upload(principal, job["id"], chunked(lines))
    jobs.set_state(principal, job["id"], {"state": "UploadComplete"})
    services.bulk.runner.run_pending()
    info = jobs.info(principal, job["id"])
    assert info["state"] == "JobComplete", info
    assert info["numberRecordsFailed"] == 0, info
    return info


def ids_of(services: Services, principal: Principal) -> list[str]:
    """Every Account's Id, by a query job (not timed)."""
    out: list[str] = []
    plan = services.data.queries.plan(principal, "SELECT Id FROM Account ORDER BY Id", False)
    after = None
    while True:
        page = services.data.queries.store.page(plan, 50_000, after=after)
        out.extend(str(row[0]) for row, _ in page)
        if len(page) < 50_000:
            return out
        after = page[-1][1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--ops", default="insert,query,update,upsert,delete")
    parser.add_argument("--database-url")
    parser.add_argument("--profile")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-bulkcpu-"))
    settings = Settings(home=home, database_url=args.database_url or
                        f"sqlite:///{home / 'lf.db'}", secret_key=generate_key(),
                        daily_api_requests=1_000_000_000)
    services = build(settings)
    principal = admin(services)
    services.data.declare(principal.org_id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    n = args.rows
    cached: dict[str, list[str]] = {}

    def insert() -> None:
        ingest(services, principal, "insert", iter(
            ["Name,NumberOfEmployees,Industry,BillingCity,Ext__c\n"] +
            [f"Bulk Account {i:07d},{i % 5000},{INDUSTRIES[i % 5]},City{i % 50:02d},E{i}\n"
             for i in range(n)]))

    def query() -> None:
        jobs = services.bulk.query
        job = jobs.create(principal, {"operation": "query", "query": QUERY}, VERSION)
        services.bulk.runner.run_pending()
        rows, locator = 0, None
        while locator != "null":
            chunks, headers = jobs.results(principal, job["id"], locator, "100000")
            lines = sum(chunk.count(b"\n") for chunk in chunks)
            assert lines == int(headers["Sforce-NumberOfRecords"]) + 1
            rows += lines - 1
            locator = headers["Sforce-Locator"]
        assert rows == n, rows

    def update() -> None:
        ids = cached.setdefault("ids", ids_of(services, principal))
        ingest(services, principal, "update", iter(
            ["Id,Site,NumberOfEmployees\n"] + [f"{i},s{n % 7},{n}\n" for n, i in enumerate(ids)]))

    def upsert() -> None:
        half = n // 2
        ingest(services, principal, "upsert", iter(
            ["Ext__c,Name,Site\n"] + [f"E{i + half},Upserted {i},u\n" for i in range(n)]),
            externalIdFieldName="Ext__c")

    def delete() -> None:
        ids = cached.setdefault("ids", ids_of(services, principal))
        ingest(services, principal, "delete", iter(["Id\n"] + [f"{i}\n" for i in ids]))

    table: dict[str, Callable[[], None]] = {"insert": insert, "query": query, "update": update,
                                            "upsert": upsert, "delete": delete}
    for op in args.ops.split(","):
        profiler = None
        if op == args.profile:  # cProfile on the CPU clock: time waiting for I/O is not cost
            import cProfile
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        table[op]()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.disable()
        print(f"{op:7s} {n:,} rows: CPU {cpu / n * 1e5:6.2f} s per 10^5 rows "
              f"({cpu / n * 1e6:5.1f} us/row), wall {wall:.1f} s", flush=True)
        if profiler is not None:
            import pstats
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
    services.close()


if __name__ == "__main__":
    main()
