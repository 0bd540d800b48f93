"""``localforce apps``: connected apps."""

from __future__ import annotations

from typing import Any

import typer

from localforce.cli.audit import apps_usage
from localforce.cli.common import (
    DatabaseOption,
    JsonOption,
    current_org,
    emit,
    err_console,
    services,
)
from localforce.directory.service import generate_consumer_secret
from localforce.domain import ids
from localforce.domain.models import ConnectedApp

app = typer.Typer(no_args_is_help=True, help="Connected apps.")


def _summary(a: ConnectedApp) -> dict[str, Any]:
    return {"name": a.name, "consumer_key": a.consumer_key, "callback_urls": list(a.callback_urls),
            "scopes": list(a.scopes)}


@app.command("create")
def create(
    name: str,
    callback_url: list[str] = typer.Option([], "--callback-url", help="Repeatable."),
    scope: list[str] = typer.Option(["api", "refresh_token"], "--scope", help="Repeatable."),
    public: bool = typer.Option(False, help="No consumer secret (a public client, PKCE)."),
    require_par: bool = typer.Option(
        False, "--require-par", help="Authorize only pushed requests (RFC 9126)."),
    require_dpop: bool = typer.Option(
        False, "--require-dpop", help="Issue only DPoP-bound tokens (RFC 9449)."),
    require_private_key_jwt: bool = typer.Option(
        False, "--require-private-key-jwt",
        help="Authenticate the client only by a JWT signed with its certificate's key."),
    allow_token_exchange: bool = typer.Option(
        False, "--allow-token-exchange",
        help="Let the app trade a user's access token for another app's (RFC 8693)."),
    jwt_access_tokens: bool = typer.Option(
        False, "--jwt-access-tokens", help="Issue RFC 9068 JWT access tokens, not opaque ones."),
    client_credentials_user: str | None = typer.Option(
        None, "--run-as", help="Enable client credentials as this user."),
    database_url: str | None = DatabaseOption, as_json: bool = JsonOption,
) -> None:
    """Create a connected app and print its consumer key and secret."""
    with services(database_url) as svc:
        org = current_org(svc)
        run_as = None
        if client_credentials_user:
            user = svc.directory_reads.find_user(client_credentials_user)
            if user is None:
                err_console.print(
                    f"[red]error:[/red] --run-as: no user {client_credentials_user!r}")
                raise typer.Exit(2)
            run_as = user.id
        secret = None if public else generate_consumer_secret()
        created = svc.directory.create_app(ConnectedApp(
            id=ids.new_id("0H4"), org_id=org.id, name=name, consumer_key="",
            callback_urls=tuple(callback_url), scopes=tuple(scope), require_pkce=public,
            require_secret_web_server=not public, require_secret_refresh=not public,
            enable_client_credentials=run_as is not None, run_as_user_id=run_as,
            require_par=require_par, require_dpop=require_dpop,
            require_private_key_jwt=require_private_key_jwt,
            allow_token_exchange=allow_token_exchange,
            jwt_access_tokens=jwt_access_tokens), secret)
        emit({**_summary(created), "consumer_secret": secret}, as_json)


@app.command("list")
def list_apps(database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """List connected apps (never their secrets)."""
    with services(database_url) as svc:
        org = current_org(svc)
        emit([_summary(a) for a in svc.directory_reads.list_apps(org.id)], as_json, "Apps")


@app.command("show")
def show(name: str, reveal_secret: bool = typer.Option(False, "--reveal-secret"),
         database_url: str | None = DatabaseOption, as_json: bool = JsonOption) -> None:
    """Show an app's settings; the secret only with --reveal-secret."""
    with services(database_url) as svc:
        found = svc.directory_reads.find_app(current_org(svc).id, name)
        if found is None:
            err_console.print(f"[red]error:[/red] no app named {name!r}")
            raise typer.Exit(2)
        detail: dict[str, Any] = {
            **_summary(found), "has_secret": found.has_secret,
            "require_pkce": found.require_pkce,
            "require_par": found.require_par,
            "require_dpop": found.require_dpop,
            "require_private_key_jwt": found.require_private_key_jwt,
            "allow_token_exchange": found.allow_token_exchange,
            "jwt_access_tokens": found.jwt_access_tokens,
            "enable_client_credentials": found.enable_client_credentials,
            "enable_device_flow": found.enable_device_flow,
            "enable_implicit": found.enable_implicit,
            "permitted_users": found.permitted_users.value,
            "ip_relaxation": found.ip_relaxation.value,
            "session_timeout_minutes": found.session_timeout_minutes,
            "refresh_token_policy": found.refresh_token_policy.render(),
            "rotate_refresh_tokens": found.rotates_refresh_tokens,  # public apps always do
            "certificate": "yes" if found.certificate else "no",
        }
        if reveal_secret:
            detail["consumer_secret"] = svc.directory.reveal_secret(found)
        emit(detail, as_json)


@app.command("rotate-secret")
def rotate_secret(name: str, database_url: str | None = DatabaseOption,
                  as_json: bool = JsonOption) -> None:
    """Replace an app's consumer secret and print the new one."""
    with services(database_url) as svc:
        found = svc.directory_reads.find_app(current_org(svc).id, name)
        if found is None or not found.has_secret:
            err_console.print(f"[red]error:[/red] no app with a secret named {name!r}")
            raise typer.Exit(2)
        emit({"name": found.name, "consumer_secret": svc.directory.rotate_secret(found)}, as_json)


app.command("usage")(apps_usage)  # defined with the other audit reads
