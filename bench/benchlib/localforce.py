"""localforce's part of a run, per backend: database, seed, cold start, growth data, warm
restart, the scenarios, 10^6 live tokens, the growth scenarios, stop, drop.

PostgreSQL gets a database of its own (``lf_bench_<random>``), dropped at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from . import log
from .bulk import account_name
from .org import Org, localforce_server
from .procs import ServerFailed, free_port
from .report import Row
from .scenarios import LocalforceScenarios, NotAvailable
from .store import BenchStore

if TYPE_CHECKING:
    from run import Bench


def run_localforce(bench: Bench, backend: str, server: str) -> None:
    workdir = bench.workdir / f"{backend}-{server}"
    workdir.mkdir(parents=True)
    try:
        with database(bench, backend, workdir) as url:
            _run(bench, backend, url, server, workdir)
    except (NotAvailable, ServerFailed) as exc:
        reason = str(exc).splitlines()[0]
        log(f"localforce on {backend}: {reason}")
        bench.report.notes.append(f"localforce on {backend}: {reason}")
        bench.report.rows.append(Row("localforce.*", "localforce", backend, "base", server,
                                     unavailable=reason))


@contextmanager
def database(bench: Bench, backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'home' / 'localforce.db'}"
        return
    if backend != "postgres":
        raise NotAvailable(f"unknown backend {backend!r}")
    from localforce.storage.sql.engine import normalise_url

    admin_url = normalise_url(bench.args.pg_admin_url)
    name = f"lf_bench_{secrets.token_hex(4)}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "absent"
        raise NotAvailable(f"PostgreSQL at {bench.args.pg_admin_url} is not reachable: "
                           f"{exc.__class__.__name__}") from exc
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(bench: Bench, backend: str, url: str, server: str, workdir: Path) -> None:
    from localforce.storage.sql.engine import make_engine

    args = bench.args
    org = Org.generate()
    seed = workdir / "seed.toml"
    seed.write_text(org.seed_toml())
    process = localforce_server(workdir, url, seed, free_port(), args.workers, server)
    engine = make_engine(url)
    store = BenchStore(engine, log=log)
    scenarios = LocalforceScenarios(process.base_url, org, store, workdir,
                                    account_name(args.accounts // 2))
    label = f"localforce/{backend}/{server}"
    try:
        with bench.serving(process, f"{label} cold"):
            _populate(bench, scenarios, store, args.tokens_base)
        with bench.serving(process, f"{label} warm"):
            selected = scenarios.all()
            for scenario in selected:
                bench.run(scenario, process, backend)
            growth = [s for s in selected if s.growth and bench.wanted(s.key)]
            grow = growth and args.tokens_growth > args.tokens_base and _grow(
                bench, scenarios, store)
        # The query's SELECT from a raw callable, on the same rows, while localforce is stopped.
        bench.store_floor(backend, url, store.org_id())
        if grow:
            # Fresh workers, so the growth rows' RSS is theirs and not the logins' before.
            with bench.serving(process, f"{label} growth"):
                for scenario in growth:
                    bench.run(scenario, process, backend, "growth")
    finally:
        engine.dispose()


def _populate(bench: Bench, scenarios: LocalforceScenarios, store: BenchStore,
              tokens: int) -> None:
    """10^4 live tokens and 10^6 Accounts, while the server runs on its cold start."""
    try:
        token = scenarios.access_token()
        store.add_live_tokens(token, tokens)
    except NotAvailable as exc:
        bench.report.notes.append(f"no base live tokens: {exc}")
    if not bench.wanted("localforce.name_query") and not bench.wanted("localforce.query"):
        return
    try:
        store.add_accounts(scenarios.first_account_id(), bench.args.accounts)
    except NotAvailable as exc:
        bench.report.notes.append(f"no bulk Accounts: {exc}")


def _grow(bench: Bench, scenarios: LocalforceScenarios, store: BenchStore) -> bool:
    try:
        seconds = store.add_live_tokens(scenarios.access_token(), bench.args.tokens_growth)
    except NotAvailable as exc:
        bench.report.notes.append(f"no growth phase: {exc}")
        return False
    bench.report.notes.append(f"growth: {bench.args.tokens_growth:,} live tokens "
                              f"(written in {seconds:.0f} s)")
    return True
