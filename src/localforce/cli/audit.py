"""``localforce audit logins|setup|api``, ``localforce apps usage NAME`` and
``localforce tokens revoke``: read the audit records, and revoke OAuth tokens as an admin."""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from localforce.audit import export
from localforce.bootstrap import Services
from localforce.cli.common import (
    DatabaseOption,
    JsonOption,
    current_org,
    emit,
    err_console,
    services,
)
from localforce.directory import audit as setup_audit
from localforce.domain.models import ConnectedApp, User

app = typer.Typer(no_args_is_help=True, help="LoginHistory, the setup audit trail, API usage.")
tokens_app = typer.Typer(no_args_is_help=True, help="OAuth tokens.")

SinceOption = typer.Option("24h", "--since", help="How far back: 30m, 24h, 7d, or an ISO "
                           "date/time (UTC unless it says otherwise).")
_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}


def since_ms(text: str, now: float | None = None) -> int:
    """``--since`` as epoch milliseconds."""
    match = _RELATIVE.match(text.strip())
    now = time.time() if now is None else now
    if match:
        return int((now - int(match.group(1)) * _UNITS[match.group(2)]) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r}: use 30m, 24h, 7d or an ISO date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@app.command("logins")
def logins(since: str = SinceOption, user: str | None = typer.Option(None, "--user"),
           limit: int = typer.Option(1000, "--limit"), database_url: str | None = DatabaseOption,
           as_json: bool = JsonOption) -> None:
    """LoginHistory: every login attempt, newest first, with its Status."""
    with services(database_url) as svc:
        rows = svc.audit.queries.logins(current_org(svc).id, since_ms(since, svc.clock()),
                                        user, limit)
        emit([{"LoginTime": export.iso_ms(r.login_time_ms), "Username": r.username,
               "LoginType": r.login_type, "Status": r.status, "SourceIp": r.source_ip,
               "Application": r.application, "LoginUrl": r.login_url} for r in rows],
             as_json, "LoginHistory")


@app.command("setup")
def setup(since: str = SinceOption, database_url: str | None = DatabaseOption,
          as_json: bool = JsonOption) -> None:
    """SetupAuditTrail: administrative changes, newest first (who, when, what)."""
    with services(database_url) as svc:
        org = current_org(svc)
        changes = svc.directory_reads.list_setup_changes(org.id, since_ms(since, svc.clock()))
        names = {u.id: u.username for u in svc.directory_reads.list_users(org.id)}
        emit([{"CreatedDate": export.iso_ms(c.created_date_ms),
               "CreatedBy": names.get(c.created_by_id or "", c.created_by_context),
               "Section": c.section, "Action": c.action, "Display": c.display}
              for c in changes], as_json, "SetupAuditTrail")


@app.command("api")
def api(since: str = SinceOption,
        fmt: str = typer.Option("csv", "--format", help="csv or json (one object per line)."),
        output: Path | None = typer.Option(None, "--output", "-o", help="File; default stdout."),
        database_url: str | None = DatabaseOption) -> None:
    """Export the API usage log: every data-API request (user, app, method, path, status,
    duration), oldest first."""
    if fmt not in export.FORMATS:
        raise typer.BadParameter("use csv or json", param_hint="--format")
    with services(database_url) as svc:
        calls = svc.audit.calls.calls(since_ms(since, svc.clock()), current_org(svc).id)
        if output is None:
            count = export.write(calls, sys.stdout, fmt)
        else:
            with output.open("w", newline="") as out:
                count = export.write(calls, out, fmt)
        err_console.print(f"{count} requests")


def _app(svc: Services, name: str) -> ConnectedApp:
    found = svc.directory_reads.find_app(current_org(svc).id, name)
    if found is None:
        err_console.print(f"[red]error:[/red] no connected app {name!r}")
        raise typer.Exit(2)
    return found


def _user(svc: Services, username: str) -> User:
    found = svc.directory_reads.find_user(username)
    if found is None or found.org_id != current_org(svc).id:
        err_console.print(f"[red]error:[/red] no user {username!r}")
        raise typer.Exit(2)
    return found


def apps_usage(name: str, database_url: str | None = DatabaseOption,
               as_json: bool = JsonOption) -> None:
    """Connected-app OAuth usage: which users hold live tokens of the app, how many, when
    last used (revoke with ``localforce tokens revoke --user … --app …``)."""
    with services(database_url) as svc:
        found = _app(svc, name)
        rows = svc.audit.queries.app_users(found.id, int(svc.clock()))
        emit([{"user": r.username or r.user_id, "access_tokens": r.live_access_tokens,
               "refresh_tokens": r.live_refresh_tokens,
               "last_used": export.iso_ms(r.last_used_at * 1000) if r.last_used_at else None}
              for r in rows], as_json, f"OAuth usage of {found.name}")


@tokens_app.command("revoke")
def revoke(user: str | None = typer.Option(None, "--user", help="Username."),
           app_name: str | None = typer.Option(None, "--app", help="Connected app name."),
           database_url: str | None = DatabaseOption) -> None:
    """Revoke every OAuth token of a user, of an app, or of a user for an app."""
    if user is None and app_name is None:
        raise typer.BadParameter("give --user, --app or both")
    with services(database_url) as svc:
        org, now = current_org(svc), int(svc.clock())
        target_app = _app(svc, app_name) if app_name else None
        app_id = target_app.id if target_app else None
        if user is not None:
            holders = [_user(svc, user).id]
        else:
            assert app_id is not None
            holders = [r.user_id for r in svc.audit.queries.app_users(app_id, now)]
        count = sum(svc.oauth.tokens.revoke_for(holder, app_id, now) for holder in holders)
        what = " and ".join(p for p in (f"user {user}" if user else "",
                                        f"connected app {app_name}" if app_name else "") if p)
        svc.directory.record(org.id, "revokedOauthTokens", setup_audit.SECTION_APPS,
                             f"Revoked OAuth tokens of {what}")
        typer.echo(f"revoked {count} tokens")
