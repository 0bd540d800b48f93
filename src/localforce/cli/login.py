"""``localforce login|whoami|query|logout``: the SDK (localforce.client) on the command line,
against localforce or Salesforce itself. Sessions live in the encrypted token cache
(client/cache.py); HTTPS trusts what ``SSL_CERT_FILE`` names, as httpx does.

The SDK is imported by these commands only: with it comes httpx, which imports its own command
line (Click, Rich's syntax highlighting, Pygments) when they are installed, and ``localforce
serve`` forks its workers from the CLI's process (web/servers.py): every worker would carry
them (bench/README.md, "RSS")."""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from localforce.cli.common import JsonOption, console, emit, err_console

if TYPE_CHECKING:
    from localforce.client import Session, TokenProvider
    from localforce.client.cache import Login, TokenCache
    from localforce.client.tokens import Token

app = typer.Typer(no_args_is_help=True,
                  help="Log in to an org (localforce or Salesforce) and keep the session.")

InstanceOption = typer.Option(..., "--instance", help="Login URL: https://login.salesforce.com, "
                              "https://test.salesforce.com, a My Domain or a localforce URL.")
ClientIdOption = typer.Option(..., "--client-id", envvar="LOCALFORCE_CLIENT_ID",
                              help="The connected app's consumer key.")
SecretOption = typer.Option(None, "--client-secret", envvar="LOCALFORCE_CLIENT_SECRET",
                            help="The consumer secret (confidential apps).")


def provider_of(login: Login) -> TokenProvider:
    from localforce.client import ClientCredentials, JwtBearer, Provided

    params = login.params or {}
    if login.flow == "client_credentials":
        return ClientCredentials(login.login_url, login.client_id, login.client_secret)
    if login.flow == "jwt":
        return JwtBearer(login.login_url, login.client_id, login.username,
                         Path(params["key_file"]))
    return Provided(login.login_url, login.client_id, login.client_secret)


def cached_session(cache: TokenCache) -> tuple[Login, Session]:
    """The current login's session; a renewed token goes back into the cache."""
    from localforce.client import Session

    login = cache.current()
    if login is None:
        err_console.print("[red]error:[/red] not logged in: run `localforce login ...`")
        raise typer.Exit(2)

    def keep(token: Token) -> None:
        cache.save(dataclasses.replace(login, token=token.raw | (
            {"refresh_token": token.refresh_token} if token.refresh_token else {})))

    return login, Session(provider_of(login), token=login.session_token(), on_token=keep)


def finish_login(provider: TokenProvider, flow: str, as_json: bool, token: Token | None = None,
                 params: dict[str, str] | None = None) -> None:
    """Log in (or take ``token``), ask who it is, cache it, print it."""
    from localforce.client import SalesforceError, Session
    from localforce.client.cache import Login, TokenCache

    cache = TokenCache()
    try:
        with Session(provider, token=token) as session:
            obtained = session.login()
            who = session.identity()
    except SalesforceError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    raw = obtained.raw | ({"refresh_token": obtained.refresh_token}
                          if obtained.refresh_token else {})
    cache.save(Login(provider.login_url, provider.client_id, who["username"], raw,
                     provider.client_secret, flow, params))
    emit(_whoami(who, obtained), as_json)


def _whoami(who: dict[str, Any], token: Token) -> dict[str, Any]:
    return {"username": who.get("username"), "user_id": who.get("user_id"),
            "org_id": who.get("organization_id"), "instance_url": token.instance_url}


@app.command("client-credentials")
def login_client_credentials(instance: str = InstanceOption, client_id: str = ClientIdOption,
                             client_secret: str = typer.Option(
                                 ..., "--client-secret", envvar="LOCALFORCE_CLIENT_SECRET"),
                             as_json: bool = JsonOption) -> None:
    """The client credentials flow: the app's run-as user."""
    from localforce.client import ClientCredentials

    finish_login(ClientCredentials(instance, client_id, client_secret), "client_credentials",
                 as_json)


@app.command("jwt")
def login_jwt(instance: str = InstanceOption, client_id: str = ClientIdOption,
              username: str = typer.Option(..., "--username"),
              key_file: Path = typer.Option(..., "--key-file", exists=True, dir_okay=False,
                                            help="PEM private key of the app's certificate."),
              as_json: bool = JsonOption) -> None:
    """The JWT bearer flow, signed with the app certificate's key (aud = the login URL)."""
    from localforce.client import JwtBearer

    finish_login(JwtBearer(instance, client_id, username, key_file.resolve()), "jwt", as_json,
                 params={"key_file": str(key_file.resolve())})


@app.command("web")
def login_web(instance: str = InstanceOption, client_id: str = ClientIdOption,
              client_secret: str | None = SecretOption,
              port: int = typer.Option(1717, "--port", help="Loopback port of the callback "
                                       "http://127.0.0.1:PORT/OauthRedirect."),
              scope: str | None = typer.Option(None, "--scope"),
              as_json: bool = JsonOption) -> None:
    """The web server flow with PKCE: log in in your browser."""
    from localforce.client import Provided
    from localforce.client.loopback import WebServerFlow

    def open_browser(url: str) -> None:
        err_console.print(f"Opening {url}", soft_wrap=True, highlight=False)
        webbrowser.open(url)

    flow = WebServerFlow(instance, client_id, client_secret, port=port, scope=scope,
                         open_browser=open_browser)
    token = _interactive(flow.run)
    finish_login(Provided(instance, client_id, client_secret), "web", as_json, token=token)


@app.command("device")
def login_device(instance: str = InstanceOption, client_id: str = ClientIdOption,
                 client_secret: str | None = SecretOption,
                 scope: str | None = typer.Option(None, "--scope"),
                 as_json: bool = JsonOption) -> None:
    """The device flow: approve a code on any device with a browser."""
    from localforce.client import Provided
    from localforce.client.device import DeviceFlow

    def announce(uri: str, code: str) -> None:
        err_console.print(f"Open {uri} and enter the code [bold]{code}[/bold]",
                          soft_wrap=True, highlight=False)

    flow = DeviceFlow(instance, client_id, client_secret, scope=scope, announce=announce)
    token = _interactive(flow.run)
    finish_login(Provided(instance, client_id, client_secret), "device", as_json, token=token)


def _interactive(run: Callable[[], Token]) -> Token:
    from localforce.client import SalesforceError

    try:
        return run()
    except SalesforceError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def whoami(as_json: bool = JsonOption) -> None:
    """Who the current login is."""
    from localforce.client import SalesforceError
    from localforce.client.cache import TokenCache

    _, session = cached_session(TokenCache())
    with session:
        try:
            who = session.identity()
        except SalesforceError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
        assert session.token is not None
        emit(_whoami(who, session.token), as_json)


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record's fields as columns, parent fields as ``Account.Name``; no ``attributes``."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            out.update(flatten(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def query(soql: str, all_rows: bool = typer.Option(
              False, "--all", help="Include deleted and archived rows (queryAll)."),
          output: str = typer.Option("table", "--format", help="table, json or csv"),
          as_json: bool = JsonOption) -> None:
    """Run a SOQL query, every page of it."""
    fmt = "json" if as_json else output
    if fmt not in ("table", "json", "csv"):
        err_console.print("[red]error:[/red] --format is table, json or csv")
        raise typer.Exit(2)
    from localforce.client import SalesforceError
    from localforce.client.cache import TokenCache

    _, session = cached_session(TokenCache())
    with session:
        try:
            rows = list(_with_progress(session.query(soql, include_deleted=all_rows),
                                       show=fmt == "table"))
        except SalesforceError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif fmt == "csv":
        flat = [flatten(r) for r in rows]
        columns = list(dict.fromkeys(c for r in flat for c in r))
        writer = csv.DictWriter(sys.stdout, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
    else:
        emit([flatten(r) for r in rows], False, title=f"{len(rows)} records")


def _with_progress(records: Iterator[dict[str, Any]], show: bool) -> Iterator[dict[str, Any]]:
    if not show:
        yield from records
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed} records"), console=console,
                  transient=True) as progress:
        task = progress.add_task("query", total=None)
        for record in records:
            progress.advance(task)
            yield record


def logout(as_json: bool = JsonOption) -> None:
    """Revoke the current login's token and delete it from the cache."""
    from localforce.client import SalesforceError
    from localforce.client.cache import TokenCache

    cache = TokenCache()
    login, session = cached_session(cache)
    with session:
        try:
            session.revoke()
        except SalesforceError as exc:  # already revoked or expired: forget it anyway
            err_console.print(f"[yellow]warning:[/yellow] {exc}")
    cache.delete(login)
    emit({"logged_out": login.username, "login_url": login.login_url}, as_json)
