"""`make bench`: localforce side by side with a floor and a peer, on this machine, in one run.

    python bench/run.py [--only 'localforce.*'] [--backends sqlite,postgres] [--duration 10] ...

Installs wrk (Debian) and oidc-provider (npm, into bench/.peer/) when missing; starts each
server as a user would; loads it from a separate wrk process (64 connections, a warm-up, the
median of 3 bounded runs); stops everything it started; prints one table and writes
bench/results/latest.json. Scenarios the server cannot serve yet are reported as "not
available yet" with the server's answer, and the run goes on. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import install, log, profile  # noqa: E402
from benchlib.load import Settings, WrkFailed, measure, measure_paired, wrk_once  # noqa: E402
from benchlib.procs import RssSampler, Server, ServerFailed, free_port  # noqa: E402
from benchlib.report import Report, Row  # noqa: E402
from benchlib.scenarios import (  # noqa: E402
    PAIRS,
    NotAvailable,
    Scenario,
    SpecForRun,
    floor_scenarios,
    peer_scenarios,
    store_floor_scenario,
)

from localforce.web.servers import DEFAULT_SERVER, SERVERS  # noqa: E402

BENCH = Path(__file__).resolve().parent
DEFAULT_OUT = BENCH / "results" / "latest.json"


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="*",
                   help="comma-separated glob patterns of scenario keys, e.g. 'floor.*,peer.*'")
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--servers", default=DEFAULT_SERVER,
                   help="HTTP servers to run the floors and localforce under, in turn "
                        f"(granian, uvicorn; default: serve's, {DEFAULT_SERVER})")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--accounts", type=int, default=1_000_000)
    p.add_argument("--tokens-base", type=int, default=10_000)
    p.add_argument("--tokens-growth", type=int, default=1_000_000)
    p.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--profile", default="",
                   help="glob patterns of scenarios to profile with py-spy in one extra run; "
                        "summaries go to bench/results/profile-<scenario>-<backend>.txt")
    p.add_argument("--no-install", action="store_true",
                   help="fail instead of installing wrk or the peer")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p.parse_args(argv)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.patterns = [p.strip() for p in args.only.split(",") if p.strip()]
        self.profile_patterns = [p.strip() for p in args.profile.split(",") if p.strip()]
        self.load = Settings(duration_s=args.duration, warmup_s=args.warmup, runs=args.runs,
                             connections=args.connections)
        self.report = Report(settings={k: (str(v) if isinstance(v, Path) else v)
                                       for k, v in vars(args).items()})
        #: The HTTP server the floors and localforce run under now ("-": the peer's own).
        self.http_server = "-"
        #: Servers kept running for scenarios measured in alternation with theirs (PAIRS):
        #: partner key -> its server and scenario.
        self.partners: dict[str, tuple[Server, Scenario]] = {}

    def wanted(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, p) for p in self.patterns)

    def any_wanted(self, target: str) -> bool:
        """Whether a pattern may select a scenario of ``target`` (its part before the dot)."""
        return any(fnmatch.fnmatchcase(target, p.split(".", 1)[0]) for p in self.patterns)

    def partner_wanted(self, key: str) -> bool:
        """Whether a wanted scenario is measured in alternation with ``key``."""
        return any(self.wanted(ours) for ours, theirs in PAIRS.items() if theirs == key)

    # -- one scenario ---------------------------------------------------------------------

    def run(self, scenario: Scenario, server: Server, backend: str = "-",
            phase: str = "base") -> None:
        if not self.wanted(scenario.key):
            return
        row = Row(scenario.key, scenario.label, backend, phase, self.http_server)
        log(f"{scenario.key} [{self.http_server}/{backend}/{phase}]")
        try:
            spec_for_run = scenario.prepare()
            background = scenario.background() if scenario.background else None
            load = self.load
            if scenario.connections:
                load = dataclasses.replace(load, connections=scenario.connections)
            partner = self.partner(scenario) if background is None else None
            with RssSampler(server) as rss:
                if partner is None:
                    row.measured = measure(spec_for_run, load, background)
                else:
                    row.paired_with = scenario.pair
                    row.paired = measure_paired(spec_for_run, partner, load)
                    row.measured = row.paired.ours
            row.rss_mib = rss.peak_mib
            if row.measured.requests:
                row.cpu_ms_per_request = round(1000 * rss.cpu_s / row.measured.requests, 3)
        except (NotAvailable, WrkFailed) as exc:
            row.unavailable = str(exc)
            log(f"  not available: {exc}")
        self.report.add(row, peer=scenario.peer, floor=scenario.floor)
        if row.measured:
            m = row.measured
            log(f"  {m.median.rps:,.0f} req/s p50 {m.median.p50_ms:.1f} ms "
                f"p99 {m.median.p99_ms:.1f} ms errors {m.errors} (runs {list(m.runs)})")
            if row.paired:
                log(f"  {row.paired_with}, alternated: runs {list(row.paired.theirs.runs)}, "
                    f"errors {row.paired.theirs.errors}, ratio {row.paired.ratio}")
            if any(fnmatch.fnmatchcase(scenario.key, p) for p in self.profile_patterns):
                self.profile(scenario, spec_for_run, server,
                             f"{self.http_server}-{backend}-{phase}")

    def partner(self, scenario: Scenario) -> SpecForRun | None:
        """The load of ``scenario``'s partner, prepared now (the peer's tokens expire and its
        in-memory store forgets); None when it is not running or cannot answer."""
        if scenario.pair is None or scenario.pair not in self.partners:
            return None
        server, partner = self.partners[scenario.pair]
        try:
            return partner.prepare()
        except NotAvailable as exc:
            log(f"  measured alone: {partner.key} on port {server.port}: {exc}")
            return None

    def profile(self, scenario: Scenario, spec_for_run: SpecForRun, server: Server,
                where: str) -> None:
        out = self.args.out.parent / f"profile-{scenario.key}-{where}.txt"
        raw = self.workdir / f"{scenario.key}-{where}.raw"
        spec = spec_for_run(self.load.runs)
        sampler = profile.record(server, self.load.duration_s, raw)
        try:
            wrk_once(spec, self.load.duration_s + 1, self.load.connections, self.load.timeout_s)
        finally:
            sampler.wait(timeout=self.load.duration_s + 60)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(profile.summarize(raw, f"{scenario.key} on {where}, "
                                              f"{self.load.connections} connections"))
        log(f"  profile: {out}")

    @contextmanager
    def serving(self, server: Server, label: str) -> Iterator[Server]:
        seconds = server.start()
        self.report.startup[label] = round(seconds, 3)
        assert server.process is not None
        self.report.servers[label] = {"pid": server.process.pid, "port": server.port}
        log(f"{label}: first 200 after {seconds:.2f} s")
        try:
            yield server
        finally:
            server.stop()

    # -- floor and peer -------------------------------------------------------------------

    def floor(self, kept: ExitStack) -> None:
        """The two floors on the current server: bare Starlette, then a raw ASGI callable.
        The bare one stays up in ``kept`` while it is a partner (PAIRS)."""
        for factory, raw in (("floor_app:create", False), ("floor_app:raw", True)):
            scenarios = floor_scenarios("", raw)
            partner = any(self.partner_wanted(s.key) for s in scenarios)
            if not partner and not any(self.wanted(s.key) for s in scenarios):
                continue
            port = free_port()
            server = Server(
                name="floor", port=port, health_path="/hello", log=self.workdir / "floor.log",
                cwd=BENCH, argv=server_argv(self.http_server, factory, port, self.args.workers))
            with ExitStack() as stack:
                (kept if partner else stack).enter_context(
                    self.serving(server, f"floor/{self.http_server}" + (" raw" if raw else "")))
                for scenario in floor_scenarios(server.base_url, raw):
                    self.run(scenario, server)
                    if self.partner_wanted(scenario.key):
                        self.partners[scenario.key] = (server, scenario)
                        kept.callback(self.partners.pop, scenario.key, None)

    def store_floor(self, backend: str, url: str, org_id: str) -> None:
        """The third floor on the current server: the query's SELECT from a raw callable, on
        the database localforce has just been measured on (``floor_app.store``)."""
        scenario = store_floor_scenario("")
        if not self.wanted(scenario.key):
            return
        port = free_port()
        server = Server(
            name="floor", port=port, health_path="/hello", log=self.workdir / "floor.log",
            cwd=BENCH, argv=server_argv(self.http_server, "floor_app:store", port,
                                        self.args.workers),
            env={"FLOOR_DATABASE_URL": url, "FLOOR_ORG_ID": org_id})
        with self.serving(server, f"floor/{self.http_server}/{backend} store"):
            self.run(store_floor_scenario(server.base_url), server, backend)

    def peer(self, kept: ExitStack) -> None:
        """The peer's scenarios; the peer stays up in ``kept`` while it is a partner."""
        scenarios = peer_scenarios("", PEER_CLIENT, "")
        partner = any(self.partner_wanted(s.key) for s in scenarios)
        if not partner and not any(self.wanted(s.key) for s in scenarios):
            return
        folder = install.PEER_DIR if self.args.no_install else install.ensure_peer()
        server, secret = peer_server(self.workdir, folder)
        with ExitStack() as stack:
            (kept if partner else stack).enter_context(self.serving(server, "peer"))
            for scenario in peer_scenarios(server.base_url, PEER_CLIENT, secret):
                self.run(scenario, server)
                if self.partner_wanted(scenario.key):
                    self.partners[scenario.key] = (server, scenario)


#: The peer's one client (bench/peer/provider.mjs).
PEER_CLIENT = "svc"


def peer_server(workdir: Path, folder: Path) -> tuple[Server, str]:
    """oidc-provider, installed in ``folder``, and its client's secret."""
    port, secret = free_port(), "peer-" + str(time.time_ns())
    server = Server(
        name="peer", port=port, health_path="/.well-known/openid-configuration",
        log=workdir / "peer.log", cwd=folder, argv=["node", "provider.mjs"],
        env={"NODE_ENV": "production", "PEER_PORT": str(port), "PEER_CLIENT_ID": PEER_CLIENT,
             "PEER_CLIENT_SECRET": secret})
    return server, secret


def server_argv(server: str, factory: str, port: int, workers: int) -> list[str]:
    """A floor under ``server`` with the settings `localforce serve` gives it (web/servers.py)."""
    if server == "granian":
        exe = Path(sys.executable).with_name("granian")
        return [str(exe), "--interface", "asgi", "--factory", factory, "--working-dir",
                str(BENCH), "--host", "127.0.0.1", "--port", str(port), "--workers",
                str(workers), "--loop", "uvloop", "--log-level", "info", "--no-access-log"]
    return [sys.executable, "-m", "uvicorn", "--factory", factory, "--app-dir", str(BENCH),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "info", "--no-proxy-headers", "--no-server-header"]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not servers or any(s not in SERVERS for s in servers):
        print(f"--servers takes {', '.join(SERVERS)}", file=sys.stderr)
        return 2
    if args.no_install:
        if not install.shutil.which("wrk"):
            print("wrk is not installed (run without --no-install)", file=sys.stderr)
            return 2
    else:
        install.ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="lf-bench-") as tmp, ExitStack() as kept:
        bench = Bench(args, Path(tmp))
        try:
            bench.peer(kept)
            from benchlib.localforce import run_localforce

            for server in servers:
                bench.http_server = server
                with ExitStack() as on_server:
                    bench.floor(on_server)
                    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
                        if bench.any_wanted("localforce"):
                            run_localforce(bench, backend, server)
        except (ServerFailed, install.InstallFailed) as exc:
            log(f"stopped: {exc}")
            bench.report.notes.append(f"run stopped early: {str(exc).splitlines()[0]}")
        report = bench.report
    print(report.table())
    for backend, server in report.combos():
        print(f"\nTargets ({backend}, {server}):\n" + report.targets_table(backend, server))
    if report.startup:
        print("\nFirst 200 after start (s): " +
              ", ".join(f"{k} {v:.2f}" for k, v in report.startup.items()))
    for note in report.notes:
        print(f"note: {note}")
    report.write(args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
