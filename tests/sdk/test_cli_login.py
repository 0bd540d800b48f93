"""``localforce login|whoami|query|logout`` against a real server, through the encrypted cache."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from tests.clients.server import LiveServer
from typer.testing import CliRunner

from localforce.cli.main import app
from localforce.client.cache import TokenCache

pytestmark = pytest.mark.clients


@pytest.fixture
def cli(sdk_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOCALFORCE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("LOCALFORCE_CACHE_NO_KEYRING", "1")
    monkeypatch.setenv("SSL_CERT_FILE", str(sdk_server.ca))
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_login_whoami_query_logout(cli: CliRunner, sdk_server: LiveServer, tmp_path: Path
                                   ) -> None:
    who = json.loads(run(cli, "login", "client-credentials", "--instance", sdk_server.url,
                         "--client-id", sdk_server.consumer_key, "--client-secret",
                         sdk_server.consumer_secret, "--json"))
    assert who["username"] == sdk_server.username and who["org_id"] == sdk_server.org_id
    assert json.loads(run(cli, "whoami", "--json")) == who

    cache = TokenCache()
    for path in (cache.path, cache.folder / "cache.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = cache.path.read_text()
    login = cache.current()
    assert login is not None
    for clear in (login.token["access_token"], sdk_server.consumer_secret, sdk_server.username,
                  login.token["access_token"].split("!")[1][:12]):
        assert clear not in sealed

    run(cli, "login", "jwt", "--instance", sdk_server.url, "--client-id",
        sdk_server.consumer_key, "--username", sdk_server.username, "--key-file",
        str(sdk_server.jwt_key))
    csv_out = run(cli, "query", "SELECT Username, Profile.Name FROM User WHERE Username = "
                  f"'{sdk_server.username}'", "--format", "csv")
    assert csv_out.splitlines() == ["Username,Profile.Name",
                                    f"{sdk_server.username},System Administrator"]
    assert "1 records" in run(cli, "query", "SELECT Username FROM User LIMIT 1")

    token = TokenCache().current().token["access_token"]  # type: ignore[union-attr]
    assert json.loads(run(cli, "logout", "--json"))["logged_out"] == sdk_server.username
    with httpx.Client(verify=str(sdk_server.ca), trust_env=False) as http:
        refused = http.get(f"{sdk_server.url}/services/data/v62.0/limits",
                           headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401  # revoked at the server
    # One entry per (login URL, client id, user): the JWT login replaced the first one.
    result = cli.invoke(app, ["whoami"])
    assert result.exit_code == 2 and "not logged in" in result.output


def test_query_renews_an_expired_cached_session(cli: CliRunner, sdk_server: LiveServer) -> None:
    run(cli, "login", "client-credentials", "--instance", sdk_server.url, "--client-id",
        sdk_server.consumer_key, "--client-secret", sdk_server.consumer_secret)
    old = TokenCache().current().token["access_token"]  # type: ignore[union-attr]
    with httpx.Client(verify=str(sdk_server.ca), trust_env=False) as http:
        http.post(f"{sdk_server.url}/services/oauth2/revoke", data={"token": old})
    assert json.loads(run(cli, "query", "SELECT Id FROM Organization", "--json"))[0]["Id"]
    assert TokenCache().current().token["access_token"] != old  # type: ignore[union-attr]
    run(cli, "logout")
