"""``localforce users``: users of the org."""

from __future__ import annotations

import typer

from localforce.cli.common import (
    DatabaseOption,
    JsonOption,
    current_org,
    emit,
    err_console,
    services,
)
from localforce.directory.seed import user_summary

app = typer.Typer(no_args_is_help=True, help="Users.")


@app.command("create")
def create(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, envvar="LOCALFORCE_PASSWORD"),
    profile: str = typer.Option("Standard User"),
    email: str | None = None, first_name: str | None = None, last_name: str | None = None,
    permission_set: list[str] = typer.Option([], "--permission-set"),
    database_url: str | None = DatabaseOption, as_json: bool = JsonOption,
) -> None:
    """Create a user; prints the security token."""
    with services(database_url) as svc:
        user, token = svc.directory.create_user(
            current_org(svc).id, username, password, profile, email, first_name, last_name,
            permission_sets=tuple(permission_set))
        emit({**user_summary(user), "security_token": token}, as_json)


@app.command("list")
def list_users(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """List users."""
    with services(database_url) as svc:
        emit([user_summary(u) for u in svc.directory_reads.list_users(current_org(svc).id)],
             as_json, "Users")


@app.command("set-password")
def set_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="LOCALFORCE_PASSWORD"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Set a user's password."""
    with services(database_url) as svc:
        user = _find(svc, username)
        svc.directory.set_password(user, password)
        typer.echo(f"password set for {user.username}")


def _find(svc, username: str):  # type: ignore[no-untyped-def]
    user = svc.directory_reads.find_user(username)
    if user is None:
        err_console.print(f"[red]error:[/red] no user {username!r}")
        raise typer.Exit(2)
    return user


@app.command("unlock")
def unlock(username: str, database_url: str | None = DatabaseOption) -> None:
    """Clear a user's failed-login count and lockout."""
    with services(database_url) as svc:
        user = _find(svc, username)
        svc.directory.unlock(user)
        typer.echo(f"unlocked {user.username}")


@app.command("deactivate")
def deactivate(username: str, database_url: str | None = DatabaseOption) -> None:
    """Deactivate a user: no more logins or token grants."""
    with services(database_url) as svc:
        user = _find(svc, username)
        svc.directory.set_active(user, False)
        typer.echo(f"deactivated {user.username}")


@app.command("activate")
def activate(username: str, database_url: str | None = DatabaseOption) -> None:
    """Reactivate a user."""
    with services(database_url) as svc:
        user = _find(svc, username)
        svc.directory.set_active(user, True)
        typer.echo(f"activated {user.username}")
