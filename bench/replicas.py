"""Replicas behind HAProxy (issue #15): client_credentials and ``/query`` through
``deploy/haproxy.cfg`` with 1, 2 and 3 ``localforce serve`` replicas on PostgreSQL and Redis.

    .venv/bin/python bench/replicas.py [--duration 8] [--rounds 3] [--connections 64]

Creates a throw-away PostgreSQL database (``LOCALFORCE_TEST_PG``'s server, default
postgresql://postgres@127.0.0.1:5432), starts three replicas (``localforce serve``, one worker
each, the README's settings for replicas) and, for N = 1, 2, 3, HAProxy with the recipe's
config listing the first N of them. wrk loads HAProxy: in each of ``--rounds`` rounds, N = 1,
2, 3 in turn, a 1 s warm-up then one ``--duration`` run each (interleaved, so that other load
on the machine moves every N alike). Each row gives the median over the rounds of req/s (every
round's too), p50/p99, and CPU per request: the CPU seconds the replicas (and, apart, HAProxy)
used over the requests served, warm-up included. Ratios are to 1 replica in the same run.
Everything runs on this machine: the replicas, PostgreSQL, Redis, HAProxy and wrk share its
cores, so ``uptime`` is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_plus

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib.http import call  # noqa: E402
from benchlib.load import LoadSpec, Settings, measure  # noqa: E402
from benchlib.org import BENCH_SETTINGS, Org  # noqa: E402
from benchlib.procs import Server, cpu_seconds, free_port  # noqa: E402

RECIPE = Path(__file__).resolve().parent.parent / "deploy" / "haproxy.cfg"
PG_ADMIN = os.environ.get("LOCALFORCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("LOCALFORCE_TEST_REDIS", "redis://127.0.0.1:6379/0")
API = "/services/data/v62.0"


def haproxy_config(front: int, ports: list[int]) -> str:
    """The recipe with this run's ports; only the first ``len(ports)`` server lines kept."""
    lines = []
    for line in RECIPE.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{front}").splitlines():
        if line.strip().startswith("server replica"):
            index = int(line.split()[1].removeprefix("replica")) - 1
            if index >= len(ports):
                continue
            line = line.replace(f"127.0.0.1:{8081 + index}", f"127.0.0.1:{ports[index]}")
        lines.append(line.replace("local0 notice", "local0 warning"))
    return "\n".join(lines) + "\n"


@contextmanager
def database() -> Iterator[str]:
    name = f"lf_bench_replicas_{secrets.token_hex(4)}"
    url = PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def replica(work: Path, i: int, port: int, front: int, env: dict[str, str],
            seed: Path | None) -> Server:
    exe = Path(sys.executable).with_name("localforce")
    return Server(name=f"replica{i}", health_path="/readyz", port=port,
                  log=work / f"replica{i}.log", cwd=work,
                  argv=[str(exe), "serve", "--port", str(port),
                        *(["--seed", str(seed)] if seed else [])],
                  env={**env, "LOCALFORCE_HOME": str(work / f"home{i}"),
                       "LOCALFORCE_PUBLIC_URL": f"http://127.0.0.1:{front}"})


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    settings = Settings(duration_s=args.duration, warmup_s=1.0, runs=1,
                        connections=args.connections)
    org = Org.generate()
    results: list[dict[str, object]] = []
    print("before:", uptime(), flush=True)
    with tempfile.TemporaryDirectory(prefix="lf-bench-replicas-") as folder, database() as db:
        work = Path(folder)
        seed = work / "seed.toml"
        seed.write_text(org.seed_toml())
        front = free_port()
        env = {**BENCH_SETTINGS, "LOCALFORCE_DATABASE_URL": db, "LOCALFORCE_REDIS_URL": REDIS,
               "LOCALFORCE_SECRET_KEY": _key(), "LOCALFORCE_TRUSTED_PROXIES": '["127.0.0.1"]'}
        servers = [replica(work, i, free_port(), front, env, seed if i == 0 else None)
                   for i in range(3)]
        try:
            for server in servers:
                server.start()
            for _ in range(args.rounds):
                for n in (1, 2, 3):
                    results += _measure_with(haproxy, work, front, servers[:n], org, settings)
        finally:
            for server in servers:
                server.stop()
    print("after:", uptime(), flush=True)
    _report(results)


def _key() -> str:
    from localforce.security.secretbox import generate_key

    return generate_key()


def _measure_with(haproxy: str, work: Path, front: int, servers: list[Server], org: Org,
                  settings: Settings) -> list[dict[str, object]]:
    config = work / "haproxy.cfg"
    config.write_text(haproxy_config(front, [s.port for s in servers]))
    proxy = Server(name="haproxy", argv=[haproxy, "-db", "-f", str(config)], port=front,
                   log=work / "haproxy.log", health_path="/readyz")
    proxy.start(timeout=30)
    try:
        base = proxy.base_url
        status, body = call(base + "/services/oauth2/token", "POST",
                            org.client_credentials_body())
        assert status == 200, body
        specs = {
            "client_credentials": LoadSpec(base + "/services/oauth2/token", "POST",
                                           org.client_credentials_body()),
            "query": LoadSpec(base + API + "/query?q=" + quote_plus(
                "SELECT Id,Name FROM Account LIMIT 5"), auth=f"Bearer {body['access_token']}"),
        }
        rows = []
        for name, spec in specs.items():
            pids = [p for s in servers for p in s.workers()]
            assert proxy.process is not None
            before = sum(cpu_seconds(p) for p in pids), cpu_seconds(proxy.process.pid)
            measured = measure(lambda _run, spec=spec: spec, settings)
            after = sum(cpu_seconds(p) for p in pids), cpu_seconds(proxy.process.pid)
            # CPU over warm-up and runs, per request over the same span.
            per_request = 1000 / max(measured.requests, 1)
            rows.append({"scenario": name, "replicas": len(servers),
                         "rps": measured.median.rps, "p50_ms": measured.median.p50_ms,
                         "p99_ms": measured.median.p99_ms, "errors": measured.errors,
                         "runs_rps": list(measured.runs),
                         "replica_cpu_ms_per_request": round((after[0] - before[0])
                                                             * per_request, 3),
                         "haproxy_cpu_ms_per_request": round((after[1] - before[1])
                                                             * per_request, 3)})
            print(json.dumps(rows[-1]), flush=True)
        return rows
    finally:
        proxy.stop()


def _report(results: list[dict[str, object]]) -> None:
    print("\n| scenario | replicas | req/s (median) | ratio to 1 | each round | p50 ms | p99 ms "
          "| replica CPU ms/req | HAProxy CPU ms/req | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for scenario in ("client_credentials", "query"):
        medians = {}
        for n in (1, 2, 3):
            rows = sorted((r for r in results if r["scenario"] == scenario
                           and r["replicas"] == n), key=lambda r: float(r["rps"]))  # type: ignore[arg-type]
            medians[n] = rows[len(rows) // 2]
            medians[n]["each"] = [r["rps"] for r in results
                                  if r["scenario"] == scenario and r["replicas"] == n]
        for n, r in medians.items():
            ratio = float(r["rps"]) / float(medians[1]["rps"])  # type: ignore[arg-type]
            print(f"| {scenario} | {n} | {r['rps']} | {ratio:.2f} | "
                  f"{', '.join(str(x) for x in r['each'])} | {r['p50_ms']} | {r['p99_ms']} | "  # type: ignore[attr-defined]
                  f"{r['replica_cpu_ms_per_request']} | {r['haproxy_cpu_ms_per_request']} | "
                  f"{r['errors']} |")


if __name__ == "__main__":
    main()
