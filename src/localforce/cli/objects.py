"""``localforce objects …`` (custom objects and fields) and ``localforce soql explain``."""

from __future__ import annotations

from typing import Any

import typer

from localforce.cli.common import DatabaseOption, JsonOption, console, current_org, emit, services
from localforce.data.custom import DeclarationError
from localforce.data.errors import ApiError
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal

app = typer.Typer(no_args_is_help=True, help="Custom objects and fields.")
soql_app = typer.Typer(no_args_is_help=True, help="SOQL tools.")

_FLAGS = {"external_id", "required", "unique", "restricted"}


def parse_field(spec: str) -> dict[str, Any]:
    """``Code__c:Text:length=20:external_id`` -> a field declaration."""
    name, _, rest = spec.partition(":")
    kind, _, options = rest.partition(":")
    out: dict[str, Any] = {"name": name, "type": kind or "Text"}
    for option in filter(None, options.split(":")):
        key, eq, value = option.partition("=")
        if not eq:
            if key not in _FLAGS:
                raise typer.BadParameter(f"unknown flag {key!r} in {spec!r}")
            out[key] = True
        elif key == "values":
            out[key] = [v for v in value.split(";") if v]
        else:
            out[key] = int(value) if value.isdigit() else value
    return out


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Thing__c (new object) or Account (add fields)."),
    label: str | None = typer.Option(None),
    plural_label: str | None = typer.Option(None),
    field: list[str] = typer.Option([], "--field", help="Name__c:Type[:option]... e.g. "
                                    "Code__c:Text:length=20:external_id, "
                                    "Account__c:Lookup:reference_to=Account, "
                                    "Stage__c:Picklist:values=New;Done"),
    database_url: str | None = DatabaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a custom object, or add custom fields to an existing object."""
    declaration: dict[str, Any] = {"name": name, "fields": [parse_field(f) for f in field]}
    if label:
        declaration["label"] = label
    if plural_label:
        declaration["plural_label"] = plural_label
    with services(database_url) as svc:
        org = current_org(svc)
        try:
            obj = svc.data.declare(org.id, declaration)
        except DeclarationError as exc:
            raise typer.BadParameter(str(exc)) from exc
        emit({"name": obj.name, "keyPrefix": obj.key_prefix,
              "fields": ", ".join(f.name for f in obj.fields if f.custom)}, as_json)


@app.command("list")
def list_objects(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """List the org's declared custom objects and fields."""
    with services(database_url) as svc:
        org = current_org(svc)
        emit([{"name": d["name"], "keyPrefix": prefix or "",
               "fields": ", ".join(f["name"] for f in d["fields"])}
              for d, prefix in svc.data.store.declarations(org.id)], as_json, "Objects")


@soql_app.command("explain")
def explain(query: str, database_url: str | None = DatabaseOption) -> None:
    """Print the SQL a SOQL query compiles to and the database's plan for it."""
    with services(database_url) as svc:
        org = current_org(svc)
        user = next((u for u in svc.directory_reads.list_users(org.id) if u.active), None)
        access = Access(True, True, True, False, ObjectPermissions(), ())
        principal = Principal(org.id, user.id if user else org.id, "explain", None, None,
                              ("api",), access, "")
        try:
            sql, plan = svc.data.store.explain(svc.data.queries.plan(principal, query))
        except ApiError as exc:
            console.print(f"[red]{exc.error_code}[/red]: {exc.message}", highlight=False)
            raise typer.Exit(1) from exc
        typer.echo(sql)
        typer.echo("")
        typer.echo("\n".join(plan))
