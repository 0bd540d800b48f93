"""Helpers shared by CLI commands: building services, printing tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from localforce.settings import Settings, SettingsError

if TYPE_CHECKING:  # imported where used: ``localforce serve`` needs none of them (cli/main.py)
    from localforce.bootstrap import Services
    from localforce.domain.models import Org

console = Console()
err_console = Console(stderr=True)

DatabaseOption = typer.Option(None, "--database-url", envvar="LOCALFORCE_DATABASE_URL",
                              help="SQLAlchemy URL; default SQLite under .localforce/")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


#: Set by ``localforce --debug``: expected failures show their traceback too.
DEBUG = {"on": False}


def fail(message: str, code: int, exc: BaseException) -> typer.Exit:
    """One line naming what went wrong and what to do; the traceback only with --debug."""
    if DEBUG["on"]:
        raise exc
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def services(database_url: str | None = None, **overrides: Any) -> Iterator[Services]:
    from sqlalchemy import make_url
    from sqlalchemy.exc import OperationalError

    from localforce.bootstrap import build
    from localforce.directory.ports import Conflict
    from localforce.directory.seed import SeedError
    from localforce.directory.service import DirectoryError

    try:
        settings = Settings().with_overrides(database_url=database_url, **overrides)
    except SettingsError as exc:
        raise fail(str(exc), 2, exc) from None
    try:
        built = build(settings)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        where = make_url(settings.effective_database_url).render_as_string(hide_password=True)
        raise fail(f"cannot open the database {where}: {reason}. Check "
                   "LOCALFORCE_DATABASE_URL or --database-url, and that the server runs.",
                   1, exc) from None
    try:
        yield built
    except (DirectoryError, SeedError) as exc:
        raise fail(str(exc), 2, exc) from None
    except Conflict as exc:
        raise fail(f"already exists: {exc}", 2, exc) from None
    finally:
        built.close()


def current_org(svc: Services) -> Org:
    org = svc.directory.default_org()
    if org is None:
        err_console.print(
            "[red]error:[/red] no org yet: run `localforce serve` or `localforce seed`")
        raise typer.Exit(2)
    return org


def emit(rows: Sequence[dict[str, Any]] | dict[str, Any], as_json: bool,
         title: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    from rich.table import Table

    items = [rows] if isinstance(rows, dict) else list(rows)
    if not items:
        console.print("(none)")
        return
    table = Table(title=title)
    for column in items[0]:
        table.add_column(column)
    for item in items:
        table.add_row(*("" if v is None else str(v) for v in item.values()))
    console.print(table)
