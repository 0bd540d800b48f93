"""The purge under load (issue #15): client_credentials p99 while 10^6 dead tokens are purged,
against the same without a purge, in one run.

    .venv/bin/python bench/purge.py [--tokens 1000000] [--duration 5] [--database-url URL]

A throw-away PostgreSQL database (as bench/replicas.py; or ``--database-url``, e.g. SQLite),
one ``localforce serve --no-maintenance`` from the bench seed, ``--tokens`` expired access
tokens written beside the live ones (cloned from an issued token, expired 10 days ago). wrk
(64 connections) sends client_credentials grants: ``--duration`` s runs before the purge
(baseline), then runs back to back while ``localforce db purge`` (the function the scheduled
maintenance calls) deletes them, then runs after it. Prints req/s and p99 of each run, the
purge's time and the token table before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import bulk  # noqa: E402
from benchlib.http import call  # noqa: E402
from benchlib.load import LoadSpec, RunResult, wrk_once  # noqa: E402
from benchlib.org import BENCH_SETTINGS, Org  # noqa: E402
from benchlib.procs import Server, free_port  # noqa: E402
from benchlib.store import BenchStore  # noqa: E402

from replicas import database, uptime  # noqa: E402

DAY = 86400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    org = Org.generate()
    print("before:", uptime(), flush=True)
    with tempfile.TemporaryDirectory(prefix="lf-bench-purge-") as folder, \
            (nullcontext(args.database_url) if args.database_url else database()) as db:
        work = Path(folder)
        seed = work / "seed.toml"
        seed.write_text(org.seed_toml())
        env = {**BENCH_SETTINGS, "LOCALFORCE_HOME": str(work / "home"),
               "LOCALFORCE_DATABASE_URL": db}
        exe = str(Path(sys.executable).with_name("localforce"))
        port = free_port()
        server = Server(name="localforce", health_path="/readyz", port=port,
                        log=work / "localforce.log", cwd=work, env=env,
                        argv=[exe, "serve", "--no-maintenance", "--port", str(port), "--seed",
                              str(seed)])
        server.start()
        try:
            _run(server, org, env, exe, args, work)
        finally:
            server.stop()
    print("after:", uptime(), flush=True)


def _run(server: Server, org: Org, env: dict[str, str], exe: str,
         args: argparse.Namespace, work: Path) -> None:
    from localforce.storage.sql.engine import make_engine

    status, body = call(server.base_url + "/services/oauth2/token", "POST",
                        org.client_credentials_body())
    assert status == 200, body
    engine = make_engine(env["LOCALFORCE_DATABASE_URL"])
    store = BenchStore(engine)
    table, template = store._token_template(body["access_token"])  # noqa: SLF001
    now = int(time.time())
    live = bulk.token_vary(now)
    seconds = bulk.clone(engine, table, template | {"expires_at": now - 10 * DAY}, args.tokens,
                         live)
    print(f"wrote {args.tokens:,} expired tokens in {seconds:.0f} s; "
          f"table: {bulk.count(engine, table):,} rows", flush=True)
    spec = LoadSpec(server.base_url + "/services/oauth2/token", "POST",
                    org.client_credentials_body())

    def run(label: str) -> RunResult:
        result = wrk_once(spec, args.duration, 64, 10)
        print(json.dumps({"phase": label, "rps": result.rps, "p50_ms": result.p50_ms,
                          "p99_ms": result.p99_ms, "errors": result.errors}), flush=True)
        return result

    wrk_once(spec, 1, 64, 10)  # warm-up
    before = [run("before") for _ in range(3)]
    began = time.monotonic()
    purge = subprocess.Popen([exe, "db", "purge", "--retention-days", "7", "--json"],
                             env={**os.environ, **env}, cwd=work, stdout=subprocess.PIPE,
                             text=True)
    during = []
    while purge.poll() is None:
        during.append(run("during"))
    took = time.monotonic() - began
    purged = json.loads(purge.stdout.read() if purge.stdout else "{}")
    after = [run("after") for _ in range(2)]
    rows = bulk.count(engine, table)
    engine.dispose()
    base_p99 = statistics.median(r.p99_ms for r in before)
    print(f"purge: {purged} in {took:.1f} s (wrk runs meanwhile: {len(during)}); "
          f"table after: {rows:,} rows")
    print(f"p99 ms before (median of 3): {base_p99:.1f}; during: "
          f"{', '.join(f'{r.p99_ms:.1f}' for r in during)} (worst/before "
          f"{max(r.p99_ms for r in during) / base_p99:.2f}); after: "
          f"{', '.join(f'{r.p99_ms:.1f}' for r in after)}")
    print(f"req/s before {statistics.median(r.rps for r in before):.0f}, during "
          f"{statistics.median(r.rps for r in during):.0f}, after "
          f"{statistics.median(r.rps for r in after):.0f}")


if __name__ == "__main__":
    main()
