"""``localforce serve``: prepare the store (seed or demo org), then run the HTTP server."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from localforce.cli.common import console, err_console, services
from localforce.settings import Settings, SettingsError
from localforce.web import servers, supervisor

if TYPE_CHECKING:  # this process imports little before it becomes the supervisor (serve)
    from localforce.bootstrap import Services
    from localforce.directory.demo import DemoCredentials
    from localforce.directory.seed import RecordSeeder
    from localforce.security.tls import TlsFiles


def record_seeder(svc: Services) -> RecordSeeder | None:
    """Where seed records go: the data API's record store."""
    from localforce.data.seeding import DataSeeder

    return DataSeeder(svc.data)


def serve(
    host: str = typer.Option("127.0.0.1", envvar="LOCALFORCE_HOST"),
    port: int = typer.Option(8080, envvar="LOCALFORCE_PORT"),
    workers: int = typer.Option(1, envvar="LOCALFORCE_WORKERS"),
    database_url: str | None = typer.Option(None, envvar="LOCALFORCE_DATABASE_URL"),
    seed: Path | None = typer.Option(None, envvar="LOCALFORCE_SEED", help="Seed file to load."),
    public_url: str | None = typer.Option(None, envvar="LOCALFORCE_PUBLIC_URL"),
    tls: bool = typer.Option(False, "--tls", envvar="LOCALFORCE_TLS",
                             help="Serve HTTPS with a local CA kept in {home}/tls/."),
    tls_cert: Path | None = typer.Option(None, "--tls-cert", envvar="LOCALFORCE_TLS_CERT",
                                         help="Serve HTTPS with this PEM certificate (chain)."),
    tls_key: Path | None = typer.Option(None, "--tls-key", envvar="LOCALFORCE_TLS_KEY",
                                        help="The PEM private key for --tls-cert."),
    maintenance: bool | None = typer.Option(
        None, "--maintenance/--no-maintenance", show_default=False,
        help="Purge dead OAuth state and rotate signing keys on a schedule, one process of "
             "the deployment at a time [default: on]."),
    maintenance_interval: float | None = typer.Option(
        None, "--maintenance-interval", min=1, show_default=False,
        help="Seconds between maintenance runs [default: 3600]."),
    purge_retention_days: int | None = typer.Option(
        None, "--purge-retention-days", min=0, show_default=False,
        help="Keep dead tokens, codes and sessions this long before purging [default: 7]."),
    key_rotation_days: float | None = typer.Option(
        None, "--key-rotation-days", min=0, show_default=False,
        help="Days a signing key signs before the next takes over; 0: by hand [default: 90]."),
    server: str = typer.Option(servers.DEFAULT_SERVER, "--server", envvar="LOCALFORCE_SERVER",
                               help=f"HTTP server: {' or '.join(servers.SERVERS)}."),
) -> None:
    """Run the server. On an empty store with no seed, create a demo org and print its logins."""
    if server not in servers.SERVERS:
        err_console.print(f"[red]error:[/red] --server must be one of {', '.join(servers.SERVERS)}")
        raise typer.Exit(2)
    if not servers.can_bind(host, port):
        err_console.print(f"[red]error:[/red] {host}:{port} is in use (another server?); "
                          "choose another with --port")
        raise typer.Exit(2)
    settings = checked(Settings)
    if settings.test_control_key and workers > 1:
        err_console.print("[red]error:[/red] a server started for tests runs one worker")
        raise typer.Exit(2)
    files = tls_files(settings.home, tls, tls_cert, tls_key)
    if files is not None and public_url is None:
        public_url = f"https://{f'[{host}]' if ':' in host else host}:{port}"
    overrides: dict[str, Any] = {
        "host": host, "port": port, "workers": workers, "database_url": database_url,
        "public_url": public_url, "maintenance": maintenance,
        "maintenance_interval_seconds": maintenance_interval,
        "purge_retention_days": purge_retention_days, "key_rotation_days": key_rotation_days}
    # The workers read these from the environment: refuse a bad combination here.
    checked(lambda: settings.with_overrides(**overrides))
    # Workers read their settings from the environment.
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"LOCALFORCE_{name.upper()}"] = str(value)
    supervisor.become(supervisor.Plan(
        server, host, port, workers, str(files.certfile) if files else None,
        str(files.keyfile) if files else None,
        str(files.ca) if files is not None and files.ca is not None else None,
        prepare_apart(overrides, seed), str(settings.home)))


def checked(make: Callable[[], Settings]) -> Settings:
    """``make()``, or the setting it refused on one line and exit code 2."""
    try:
        return make()
    except SettingsError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def tls_files(home: Path, tls: bool, cert: Path | None, key: Path | None) -> TlsFiles | None:
    """The operator's certificate if given, else the local CA's when ``--tls``, else None."""
    from localforce.security.tls import TlsError, ensure_local_ca, operator_files

    try:
        if cert is not None or key is not None:
            if cert is None or key is None:
                raise TlsError("--tls-cert and --tls-key go together")
            return operator_files(cert, key)
        return ensure_local_ca(home, time.time) if tls else None
    except TlsError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def prepare_apart(overrides: Mapping[str, Any], seed: Path | None) -> int:
    """Start ``prepare`` in a child process and return its pid, so that the store is prepared
    on one core while the supervisor this process becomes imports the workers' app on the
    other (bench/README.md, "Start-up"). The supervisor waits for the child before any worker
    starts, and the child's failure is this command's (web/supervisor.py)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid != 0:
        return pid
    code = 0
    try:
        with services(**overrides) as svc:
            prepare(svc, seed)
    except typer.Exit as exc:
        code = exc.exit_code
    except BaseException:  # as an uncaught exception ends a process: the traceback, 1
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # not this process's exit handlers: they are the parent's


def prepare(svc: Services, seed: Path | None) -> None:
    from localforce.directory.demo import create_demo_org, load_demo_credentials
    from localforce.directory.seed import apply_seed, load_file

    base = svc.settings.effective_public_url
    if seed is not None:
        report = apply_seed(svc.directory, load_file(seed), str(seed), seed.parent,
                            record_seeder(svc))
        what = "no changes" if not report.changed else (
            f"{len(report.created)} created, {len(report.updated)} updated")
        console.print(f"seed {seed}: {what}")
    elif svc.directory.default_org() is None:
        credentials = create_demo_org(svc.directory, svc.settings.home, base, record_seeder(svc))
        console.print("[bold]Created a demo org.[/bold]")
        _print_demo(base, credentials)
        return
    existing = load_demo_credentials(svc.settings.home)
    if existing is not None and seed is None and svc.directory_reads.get_org(existing.org_id):
        _print_demo(base, existing)
    else:
        console.print(f"localforce at {base}")


def _print_demo(base: str, c: DemoCredentials) -> None:
    console.print(f"""
  base URL         {base}
  login page       {base}/services/oauth2/authorize
  org id           {c.org_id}
  admin username   {c.username}
  admin password   {c.password}
  security token   {c.security_token}
  consumer key     {c.consumer_key}
  consumer secret  {c.consumer_secret}
""", highlight=False, soft_wrap=True)
