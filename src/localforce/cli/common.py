"""Helpers shared by CLI commands: building services, printing tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from localforce.bootstrap import Services, build
from localforce.directory.seed import SeedError
from localforce.directory.service import DirectoryError
from localforce.domain.models import Org
from localforce.settings import Settings

console = Console()
err_console = Console(stderr=True)

DatabaseOption = typer.Option(None, "--database-url", envvar="LOCALFORCE_DATABASE_URL",
                              help="SQLAlchemy URL; default SQLite under .localforce/")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")


@contextmanager
def services(database_url: str | None = None, **overrides: Any) -> Iterator[Services]:
    settings = Settings().with_overrides(database_url=database_url, **overrides)
    built = build(settings)
    try:
        yield built
    except (DirectoryError, SeedError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
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
