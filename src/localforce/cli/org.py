"""``localforce org``: the org's settings (Setup's Org settings page, from the shell)."""

from __future__ import annotations

from typing import Any

import typer

from localforce.cli.common import DatabaseOption, JsonOption, current_org, emit, services
from localforce.directory.service import DirectoryError
from localforce.domain.models import IpRange, Org, OrgPolicies

app = typer.Typer(no_args_is_help=True, help="The org's settings.")


def _summary(org: Org, policies: OrgPolicies) -> dict[str, Any]:
    """What is in force; ``*_source`` says whether the org set it or the server's setting
    applies."""
    own = org.policies
    out: dict[str, Any] = {"id": org.id, "name": org.name,
                           "username_password_flow": org.username_password_flow}
    for name in ("lockout_attempts", "lockout_minutes", "session_timeout_minutes",
                 "daily_api_requests"):
        out[name] = getattr(policies, name)
        out[f"{name}_source"] = "org" if getattr(own, name) is not None else "server"
    out["trusted_ip_ranges"] = [f"{r.start}-{r.end}" for r in policies.trusted_ip_ranges]
    return out


def parse_range(text: str) -> IpRange:
    """``start-end`` or one address."""
    try:
        return IpRange.parse(text)
    except ValueError as exc:
        raise DirectoryError(f"trusted_ip_ranges: {text!r}: {exc}", "trusted_ip_ranges") from None


@app.command("show")
def show(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """Print the org's settings in force."""
    with services(database_url) as svc:
        org = current_org(svc)
        emit(_summary(org, svc.directory.policies(org.id)), as_json)


@app.command("set")
def set_(
    lockout_attempts: int | None = typer.Option(
        None, help="Failed logins before lockout: 3, 5, 10 or 0 (no limit)."),
    lockout_minutes: int | None = typer.Option(
        None, help="Lockout period: 15, 30, 60 or 0 (until an admin unlocks)."),
    session_timeout: int | None = typer.Option(
        None, help="Session timeout in minutes: 15, 30, 60, 120, 240, 480, 720 or 1440."),
    api_requests: int | None = typer.Option(
        None, help="API request allocation per rolling 24 hours."),
    trusted_ip_range: list[str] = typer.Option(
        [], "--trusted-ip-range",
        help="START-END (or one address), repeatable: replaces the trusted IP ranges."),
    no_trusted_ip_ranges: bool = typer.Option(
        False, "--no-trusted-ip-ranges", help="Remove every trusted IP range."),
    username_password_flow: bool | None = typer.Option(
        None, "--username-password-flow/--no-username-password-flow",
        help="Allow the OAuth username-password flow."),
    database_url: str | None = DatabaseOption, as_json: bool = JsonOption,
) -> None:
    """Change the org's settings; each change is one Setup Audit Trail entry."""
    changes: dict[str, Any] = {}
    for name, value in (("lockout_attempts", lockout_attempts),
                        ("lockout_minutes", lockout_minutes),
                        ("session_timeout_minutes", session_timeout),
                        ("daily_api_requests", api_requests)):
        if value is not None:
            changes[name] = value
    with services(database_url) as svc:
        if trusted_ip_range or no_trusted_ip_ranges:
            changes["trusted_ip_ranges"] = tuple(parse_range(r) for r in trusted_ip_range)
        org = current_org(svc)
        if username_password_flow is not None:
            org = svc.directory.set_username_password_flow(org, username_password_flow)
        org = svc.directory.set_policies(org, **changes)
        emit(_summary(org, svc.directory.policies(org.id)), as_json)
