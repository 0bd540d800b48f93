"""``localforce keys``: the id_token signing keys published at ``/id/keys``."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from localforce.cli.common import DatabaseOption, JsonOption, emit, services

app = typer.Typer(no_args_is_help=True, help="id_token signing keys.")


def _when(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


@app.command("list")
def list_keys(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """Published keys: when each starts signing and when it retires."""
    with services(database_url) as svc:
        keys = svc.oauth.keys
        current = keys.current().kid
        emit([{"kid": k.kid, "signing": k.kid == current, "active_from": _when(k.active_from),
               "retire_after": _when(k.retire_after)} for k in keys.published()],
             as_json, "Signing keys")


@app.command("rotate")
def rotate(
    publish_ahead_hours: int = typer.Option(
        24, min=0, help="Publish the new key this long before it starts signing."),
    database_url: str | None = DatabaseOption, as_json: bool = JsonOption,
) -> None:
    """Publish a new signing key; the old one keeps verifying until its id_tokens expire."""
    with services(database_url) as svc:
        new = svc.oauth.keys.rotate(publish_ahead=publish_ahead_hours * 3600)
        emit({"kid": new.kid, "active_from": _when(new.active_from)}, as_json)
