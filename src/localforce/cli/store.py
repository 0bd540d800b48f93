"""``localforce init``, ``seed``, ``profiles`` and ``db``: the store and what is in it."""

from __future__ import annotations

from pathlib import Path

import typer

from localforce.cli.common import DatabaseOption, JsonOption, console, emit, services
from localforce.directory.seed import apply_seed, load_file
from localforce.storage.sql.engine import current_revision, upgrade

profiles_app = typer.Typer(no_args_is_help=True, help="Profiles.")
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")


def init(database_url: str | None = DatabaseOption) -> None:
    """Create the home folder, the master key and the schema."""
    with services(database_url) as svc:
        typer.echo(f"database ready at revision {current_revision(svc.engine)}: "
                   f"{svc.settings.effective_database_url}")


def seed(file: Path, database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """Load a seed file (idempotent: loading it twice changes nothing)."""
    from localforce.cli.serve import record_seeder

    with services(database_url) as svc:
        report = apply_seed(svc.directory, load_file(file), str(file), file.parent,
                            record_seeder(svc))
        emit({"org": report.org.id, "created": report.created, "updated": report.updated},
             as_json)


@profiles_app.command("list")
def profiles_list(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """List the org's profiles."""
    from localforce.cli.common import current_org

    with services(database_url) as svc:
        org = current_org(svc)
        emit([{"id": p.id, "name": p.name, "standard": p.standard, "api_enabled": p.api_enabled,
               "objects": {k: sorted(v) for k, v in p.objects.grants.items()}}
              for p in svc.directory_reads.list_profiles(org.id)], as_json, "Profiles")


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DatabaseOption,
               revision: str = typer.Option("heads", help="Target revision.")) -> None:
    """Apply migrations."""
    with services(database_url) as svc:
        upgrade(svc.engine, revision)
        console.print(f"at revision {current_revision(svc.engine)}")


@db_app.command("purge")
def db_purge(
    retention_days: int = typer.Option(
        7, min=0, help="Keep dead rows this long, so replays are still recognised."),
    database_url: str | None = DatabaseOption, as_json: bool = JsonOption,
) -> None:
    """Delete dead tokens, expired codes, device codes, browser sessions and JWT ids."""
    with services(database_url) as svc:
        emit(svc.housekeeping.purge(retention_days), as_json)
