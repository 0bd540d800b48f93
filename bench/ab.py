"""Two localforce set-ups measured in alternation, in the same minutes: A/B on a shared machine.

    python bench/ab.py --a server=uvicorn --b server=granian
    python bench/ab.py --a src=/path/to/old/src,server=uvicorn --b server=granian --floors

`make bench` measures one set-up after another; on a machine other work shares, a minute's
difference in load moved the bare GET floor by 5x (bench/README.md). Here both set-ups run at
once, each with its own SQLite home and the same bench org, and each round loads A then B (B
then A in the next round) for ``--duration`` seconds per scenario: whatever the machine does,
both sides see it about equally. Reported per scenario: the median req/s, CPU ms per request
and, of that, the workers' main threads' (``loop``: the event loop, which runs every
request's Python in turn and so bounds a worker's rate; the rest is the server's I/O threads
and the app's threads beside the loop) of each side over the rounds, the median of the
per-round ratios B/A (the figure to quote) and the largest RSS a worker of each side reached
during that scenario's first round (each scenario follows those above it on the same
workers, so it grows down the table); a scenario with a second load
(``query_during_logins``: logins) has it sent during each of its runs. ``--floors`` adds the
bare GET and the raw-callable GET/POST floors under each side's server; ``--peer`` adds the
peer's client credentials and introspection to each round and reports each side's req/s over
the peer's of the same round (``make bench`` measures the peer minutes before localforce:
its ratios move with the machine); ``--tokens N`` writes live tokens into each side's store
until it holds N before the runs (as ``make bench`` does for its growth rows).

A side is ``key=value`` pairs: ``server`` (granian or uvicorn; omitted: `serve`'s default
of that source tree, for trees older than ``--server``), ``src`` (a ``src`` folder put first on
PYTHONPATH, e.g. a worktree of another commit), ``env.NAME`` (an environment variable),
``database`` (the URL of an empty database the side's server uses, e.g. a PostgreSQL database of
its own per side; default: a new SQLite file in the side's home), ``tokens`` (this side's live
tokens instead of ``--tokens``: ``--a tokens=10000 --b tokens=1000000`` measures one tree's
growth loss in alternation).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import install, log  # noqa: E402
from benchlib.load import LoadSpec, sending, wrk_once  # noqa: E402
from benchlib.org import Org, localforce_server  # noqa: E402
from benchlib.procs import RssSampler, Server, free_port, running  # noqa: E402
from benchlib.scenarios import (  # noqa: E402
    LocalforceScenarios,
    SpecForRun,
    floor_scenarios,
    peer_scenarios,
)
from benchlib.store import BenchStore  # noqa: E402
from run import PEER_CLIENT, peer_server, server_argv  # noqa: E402

from localforce.storage.sql.engine import make_engine  # noqa: E402

BENCH = Path(__file__).resolve().parent


@dataclass
class Side:
    name: str
    server: str | None = None
    src: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    tokens: int | None = None
    #: Another virtual environment (its interpreter, its packages) to run this side's servers
    #: from: an interpreter A/B.
    venv: str | None = None

    @classmethod
    def parse(cls, name: str, text: str) -> Side:
        side = cls(name)
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = part.partition("=")
            if key == "server":
                side.server = value
            elif key == "src":
                side.src = str(Path(value).resolve())
            elif key.startswith("env."):
                side.env[key[4:]] = value
            elif key == "database":
                side.database = value
            elif key == "tokens":
                side.tokens = int(value)
            elif key == "venv":
                side.venv = str(Path(value).resolve())
            else:
                raise SystemExit(f"unknown side setting {key!r} (server, src, env.NAME, "
                                 "database, tokens, venv)")
        if side.src:
            side.env["PYTHONPATH"] = side.src
        return side

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (("server", self.server), ("src", self.src),
                                                 ("database", self.database),
                                                 ("tokens", self.tokens),
                                                 ("venv", self.venv))
                         if v) + "".join(f", {k}={v}" for k, v in self.env.items()
                                         if k != "PYTHONPATH") or "defaults"


def localforce(side: Side, workdir: Path, org: Org, seed: Path, workers: int) -> Server:
    home = workdir / side.name
    home.mkdir()
    server = localforce_server(home, database_url(side, workdir), seed,
                               free_port(), workers, side.server or "granian")
    if side.server is None:  # a tree older than --server: its own default
        argv = list(server.argv)
        at = argv.index("--server")
        del argv[at:at + 2]
        server.argv = argv
    server.env.update(side.env)
    server.argv = in_venv(side, server.argv)
    return server


def in_venv(side: Side, argv: list[str]) -> list[str]:
    """``argv`` with its program taken from the side's virtual environment, if it has one."""
    if side.venv is None:
        return argv
    return [str(Path(side.venv) / "bin" / Path(argv[0]).name), *argv[1:]]


def database_url(side: Side, workdir: Path) -> str:
    return side.database or f"sqlite:///{workdir / side.name / 'home' / 'localforce.db'}"


def floor(side: Side, factory: str, workers: int, workdir: Path) -> Server:
    port = free_port()
    return Server(name="floor", port=port, health_path="/hello",
                  log=workdir / f"floor-{side.name}.log", cwd=BENCH,
                  argv=in_venv(side, server_argv(side.server or "granian", factory, port,
                                                 workers)))


def once(server: Server, spec_for_run: SpecForRun, round_: int, args: argparse.Namespace,
         what: str, background: LoadSpec | None = None
         ) -> tuple[float, float, float, float, float]:
    """req/s, CPU ms per request, p99 ms, the largest worker's peak RSS (MiB) and the workers'
    main threads' (their event loops') CPU ms per request of round
    ``round_``'s run; ``background`` sent meanwhile by a second wrk (its requests count in the
    CPU per request too). The warm-up has a load of its own (``spec_for_run(-1)``, as
    ``make bench``'s): a rotating refresh spends the tokens it starts from."""
    with ExitStack() as stack:
        if background is not None:
            stack.enter_context(sending(background, args.warmup + args.duration + 5))
        wrk_once(spec_for_run(-1), args.warmup, args.connections, 10.0)
        with RssSampler(server) as sampler:
            result = wrk_once(spec_for_run(round_), args.duration, args.connections, 10.0)
    if result.errors:
        raise SystemExit(f"{what}: {result.errors} errors")
    requests = max(result.requests, 1)
    return (result.rps, 1000 * sampler.cpu_s / requests, result.p99_ms, sampler.peak_mib,
            1000 * sampler.loop_cpu_s / requests)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", default="server=uvicorn")
    p.add_argument("--b", default="server=granian")
    p.add_argument("--scenarios", default="client_credentials,jwt_bearer,introspection,query,"
                   "retrieve")
    p.add_argument("--floors", action="store_true")
    p.add_argument("--peer", action="store_true",
                   help="the peer's client credentials and introspection in every round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tokens", type=int, default=0,
                   help="live tokens written into each side's store before the runs")
    p.add_argument("--restart", action="store_true",
                   help="restart each side's server once its tokens are written (fresh "
                        "workers, as make bench's growth phase)")
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=0.5)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    install.ensure_wrk()
    sides = [Side.parse("A", args.a), Side.parse("B", args.b)]
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    org = Org.generate()
    # (scenario, side) -> [(rps, cpu_ms, p99_ms, rss_mib, loop_cpu_ms)]
    results: dict[tuple[str, str], list[tuple[float, float, float, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="lf-ab-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        seed = workdir / "seed.toml"
        seed.write_text(org.seed_toml())
        plans: list[tuple[str, dict[str, tuple[Server, SpecForRun, LoadSpec | None]]]] = []
        if args.floors:
            for factory, raw in (("floor_app:create", False), ("floor_app:raw", True)):
                by_key: dict[str, dict[str, tuple[Server, SpecForRun, LoadSpec | None]]] = {}
                for side in sides:
                    server = stack.enter_context(running(floor(side, factory, args.workers,
                                                               workdir)))
                    for scenario in floor_scenarios(server.base_url, raw):
                        by_key.setdefault(scenario.key, {})[side.name] = (
                            server, scenario.prepare(), None)
                plans.extend(by_key.items())
        if args.peer:
            peer, secret = peer_server(workdir, install.ensure_peer())
            stack.enter_context(running(peer))
            for scenario in peer_scenarios(peer.base_url, PEER_CLIENT, secret):
                if scenario.key.split(".", 1)[1] in wanted:
                    plans.append((scenario.key, {"peer": (peer, scenario.prepare(), None)}))
        per_side: dict[str, dict[str, tuple[Server, SpecForRun, LoadSpec | None]]] = {}
        for side in sides:
            server = stack.enter_context(running(localforce(side, workdir, org, seed,
                                                            args.workers)))
            log(f"side {side.name} ({side.describe()}) on port {server.port}")
            engine = make_engine(database_url(side, workdir))
            stack.callback(engine.dispose)
            store = BenchStore(engine, log=log)  # refresh tokens for the refresh scenarios
            scenarios = LocalforceScenarios(server.base_url, org, store, workdir / side.name,
                                            "Bench Seed Account 1")
            tokens = args.tokens if side.tokens is None else side.tokens
            if tokens:  # live tokens before the runs, as make bench's growth rows
                store.add_live_tokens(scenarios.access_token(), tokens)
            if args.restart:
                server.stop()
                server.start()
            for scenario in scenarios.all():
                short = scenario.key.split(".", 1)[1]
                if short in wanted:
                    per_side.setdefault(scenario.key, {})[side.name] = (
                        server, scenario.prepare(),
                        scenario.background() if scenario.background else None)
        plans.extend(per_side.items())
        for round_ in range(args.rounds):
            order = [side.name for side in (sides if round_ % 2 == 0 else sides[::-1])]
            for key, specs in plans:
                for name in [*order, "peer"]:
                    if name not in specs:
                        continue
                    server, spec_for_run, background = specs[name]
                    results.setdefault((key, name), []).append(
                        once(server, spec_for_run, round_, args, f"{key} on {name}",
                             background))
            log(f"round {round_ + 1}/{args.rounds} done")
    print(f"A: {sides[0].describe()}\nB: {sides[1].describe()}\n")
    print("| scenario | A req/s | B req/s | B/A req/s (median of rounds) | A CPU ms/req | "
          "B CPU ms/req | B/A CPU | A loop ms/req | B loop ms/req | B/A loop | A p99 ms | "
          "B p99 ms | A RSS MiB | B RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, specs in plans:
        if "A" not in specs:
            continue
        a, b = results[(key, "A")], results[(key, "B")]
        ratio = statistics.median(rb[0] / ra[0] for ra, rb in zip(a, b, strict=True))
        a_cpu = statistics.median(r[1] for r in a)
        b_cpu = statistics.median(r[1] for r in b)
        a_loop = statistics.median(r[4] for r in a)
        b_loop = statistics.median(r[4] for r in b)
        print(f"| {key} | {statistics.median(r[0] for r in a):,.0f} | "
              f"{statistics.median(r[0] for r in b):,.0f} | {ratio:.2f} | {a_cpu:.3f} | "
              f"{b_cpu:.3f} | {b_cpu / a_cpu:.2f} | {a_loop:.3f} | {b_loop:.3f} | "
              f"{b_loop / a_loop if a_loop else 0:.2f} | "
              f"{statistics.median(r[2] for r in a):.1f} | "
              f"{statistics.median(r[2] for r in b):.1f} | {a[0][3]:.1f} | {b[0][3]:.1f} |")
    peers = [(key, "localforce." + key.split(".", 1)[1]) for key, specs in plans if "peer" in specs]
    if peers:
        print("\n| peer scenario | peer req/s | A ÷ peer (median of rounds) | B ÷ peer |")
        print("| --- | --- | --- | --- |")
    for key, ours in peers:
        peer_runs = results[(key, "peer")]
        over = [statistics.median(r[0] / p[0] for p, r in zip(peer_runs, results[(ours, name)],
                                                               strict=True))
                if (ours, name) in results else float("nan") for name in ("A", "B")]
        print(f"| {key} | {statistics.median(p[0] for p in peer_runs):,.0f} | {over[0]:.2f} | "
              f"{over[1]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
