"""SOSL ``FIND`` latency over 10^6 Accounts, one connection (issue #14).

    .venv/bin/python bench/sosl.py [--rows 1000000] [--n 2000] [--database-url URL]

Builds a fresh home (SQLite unless ``--database-url``), creates one Account through the data
API and clones it to ``--rows`` Accounts straight through SQL (``benchlib/bulk.py``: names
``Bench Account 0000042``, cities from a list of 50; the search index is then filled with one
statement, as the record store does per transaction), starts
``uvicorn --factory localforce.web.asgi:create`` with one worker, and sends each query shape
``--n`` times, one after another, on one keep-alive connection. Prints p50/p99/max per shape
and the time the inserts took (index upkeep included). On PostgreSQL the table is ANALYZEd
after the load, as autovacuum would soon do. Every answer is checked: 200 and the expected
number of records.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bulk  # noqa: E402
from benchlib.org import BENCH_SETTINGS  # noqa: E402
from benchlib.procs import Server, free_port, running  # noqa: E402

from localforce.bootstrap import build  # noqa: E402
from localforce.security.secretbox import generate_key  # noqa: E402
from localforce.settings import Settings  # noqa: E402
from localforce.storage.sql import search_index  # noqa: E402

CITIES = [f"City{n:02d}" for n in range(50)]
V = "/services/data/v62.0"


def populate(settings: Settings, rows: int, index: bool = True) -> tuple[str, float]:
    """An org, an admin's access token and ``rows`` Accounts; (token, seconds to insert).
    ``index=False`` drops Account's search index first (what the index costs a load)."""
    services = build(settings)
    org = services.directory.create_org("Bench")
    user, _ = services.directory.create_user(org.id, "admin@bench.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin")
    token = services.oauth.issuer.issue_session(user).access_token
    principal = services.oauth.sessions.resolve(token)
    assert principal is not None
    made = services.data.records.create(principal, "Account", {"Name": "Template",
                                                               "BillingCity": "Nowhere"})
    engine = services.engine
    table, template = bulk.find_record(engine, made.id)
    name_vary = bulk.account_vary("Id", made.id, "Name")

    def vary(n: int) -> dict[str, object]:
        return name_vary(n) | {"BillingCity": CITIES[n % len(CITIES)]}

    account = services.data.schema_for("").get("Account")
    assert account is not None
    with engine.begin() as connection:
        indexed = search_index.high_water(connection, account)
        if not index:  # after the template: the record store indexes what it inserts
            search_index.drop(connection, account)
    seconds = bulk.clone(engine, table, template, rows, vary)
    if index:  # rows written straight through SQL: index them as the record store does
        began = time.monotonic()
        with engine.begin() as connection:
            search_index.index_after(connection, account, indexed)
        seconds += time.monotonic() - began
    if engine.dialect.name == "postgresql":  # what autovacuum would do soon after such a load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"ANALYZE {table.name}")
    services.audit.writer.flush()
    return token, seconds


def shapes(rows: int, rng: random.Random) -> dict[str, tuple[Callable[[], str], int]]:
    """Query shape -> (a function making one SOSL text, the records each answer holds)."""
    def number() -> int:
        return rng.randrange(rows)

    return {
        "exact word, name fields": (lambda: f"FIND {{{number():07d}}} IN NAME FIELDS "
                                    "RETURNING Account(Id, Name)", 1),
        "phrase, all fields": (lambda: f'FIND {{"Bench Account {number():07d}"}} RETURNING '
                               "Account(Id, Name, BillingCity)", 1),
        "prefix (10 matches)": (lambda: f"FIND {{{number() // 10:06d}*}} RETURNING "
                                "Account(Id, Name)", min(10, rows)),
        "two words AND, WHERE": (lambda: f"FIND {{{number():07d} AND bench}} RETURNING "
                                 "Account(Id, Name WHERE BillingCity != null)", 1),
        "common word, LIMIT 20": (lambda: f"FIND {{{rng.choice(CITIES)}}} RETURNING "
                                  "Account(Id, Name LIMIT 20)", min(20, rows)),
    }


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="lf-sosl-"))
    try:
        run(home)
    finally:  # ~1 GB of SQLite at 10^6 rows
        shutil.rmtree(home, ignore_errors=True)


def run(home: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--database-url")
    parser.add_argument("--load-only-without-index", action="store_true",
                        help="drop the search index, time the load, stop")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{home / 'lf.db'}"
    key = generate_key()
    settings = Settings(home=home, database_url=url, secret_key=key,
                        daily_api_requests=1_000_000_000)
    index = not args.load_only_without_index
    token, seconds = populate(settings, args.rows, index)
    print(f"{args.rows:,} Accounts inserted in {seconds:.0f} s "
          f"({args.rows / max(seconds, 1e-9):,.0f} rows/s, "
          f"{'search index filled after the load' if index else 'no search index'})")
    if not index:
        return
    port = free_port()
    env = {**os.environ, **BENCH_SETTINGS, "LOCALFORCE_HOME": str(home),
           "LOCALFORCE_DATABASE_URL": url, "LOCALFORCE_SECRET_KEY": key}
    uvicorn = Path(sys.executable).with_name("uvicorn")
    server = Server(name="localforce", health_path="/healthz", port=port,
                    log=home / "server.log",
                    argv=[str(uvicorn), "--factory", "localforce.web.asgi:create", "--port",
                          str(port), "--workers", "1", "--no-access-log", "--log-level",
                          "warning"], env=env, cwd=home)
    rng = random.Random(14)
    with running(server), httpx.Client(base_url=server.base_url, headers={
            "Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
            timeout=30) as client:
        print(f"{'shape':28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, (make, expected) in shapes(args.rows, rng).items():
            times = []
            for i in range(args.n + 50):  # the first 50 warm the caches
                sosl = make()
                began = time.perf_counter()
                response = client.get(f"{V}/search", params={"q": sosl})
                elapsed = (time.perf_counter() - began) * 1000
                assert response.status_code == 200, response.text
                found = len(response.json()["searchRecords"])
                assert found == expected, (sosl, found)
                if i >= 50:
                    times.append(elapsed)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"{name:28} {statistics.median(times):8.2f} {p99:8.2f} {times[-1]:8.2f}")


if __name__ == "__main__":
    main()
