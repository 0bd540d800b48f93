"""``localforce audit logins|setup|api``, ``apps usage`` and ``tokens revoke`` against a real
database: the same records the server writes."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from tests.conftest import FixedClock
from typer.testing import CliRunner

from localforce.audit.ports import ApiCall
from localforce.bootstrap import Services, build
from localforce.cli.main import app
from localforce.domain import ids
from localforce.domain.models import ConnectedApp
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext
from localforce.oauth.issuing import IssuePolicy
from localforce.settings import Settings


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("LOCALFORCE_HOME", str(home))
    monkeypatch.delenv("LOCALFORCE_SECRET_KEY", raising=False)
    monkeypatch.delenv("LOCALFORCE_DATABASE_URL", raising=False)
    return Settings(home=home)


@pytest.fixture
def org(env: Settings) -> dict[str, str]:
    """An org with two users, an app, tokens, login attempts and API calls (now-ish)."""
    clock = FixedClock(time.time() - 60)  # a minute ago, moved by hand: entries never tie
    svc: Services = build(env, clock=clock)
    try:
        directory = svc.directory
        o = directory.create_org("Acme")
        ann, _ = directory.create_user(o.id, "ann@acme.test", "pw-12345678", "Standard User")
        clock.advance(1)
        bob, _ = directory.create_user(o.id, "bob@acme.test", "pw-12345678", "Standard User")
        clock.advance(1)
        tool = directory.create_app(ConnectedApp(ids.new_id("0H4"), o.id, "Tool", "",
                                                 scopes=("api", "refresh_token")), "s3cret")
        for user in (ann, ann, bob):
            svc.oauth.issuer.issue(tool, user, ("api", "refresh_token"),
                                   IssuePolicy("authorization_code", with_refresh=True))
        context = LoginContext(ports.OAUTH_LOGIN, "198.51.100.7", tool)
        svc.oauth.logins.record(context, ports.SUCCESS, ann)
        clock.advance(1)
        svc.oauth.logins.record(context, ports.INVALID_PASSWORD, bob)
        now_ms = int(svc.clock() * 1000)
        svc.audit.calls.append([
            ApiCall(now_ms - 1000, o.id, ann.id, tool.id, "GET", "/services/data/v59.0/limits",
                    200, 1200),
            ApiCall(now_ms - 500, o.id, bob.id, tool.id, "POST",
                    "/services/data/v59.0/sobjects/Account", 201, 3400)])
        return {"org": o.id, "ann": ann.id, "bob": bob.id, "tool": tool.id}
    finally:
        svc.close()


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_audit_logins_newest_first_with_status(org: dict[str, str]) -> None:
    rows = json.loads(run("audit", "logins", "--json"))
    assert [(r["Username"], r["Status"], r["SourceIp"], r["Application"]) for r in rows] == [
        ("bob@acme.test", "Invalid Password", "198.51.100.7", "Tool"),
        ("ann@acme.test", "Success", "198.51.100.7", "Tool")]
    only_ann = json.loads(run("audit", "logins", "--user", "ann@acme.test", "--json"))
    assert [r["Status"] for r in only_ann] == ["Success"]


def test_audit_setup_lists_admin_changes(org: dict[str, str]) -> None:
    rows = json.loads(run("audit", "setup", "--json"))
    displays = [r["Display"] for r in rows]
    assert displays[:3] == ["Created connected app Tool", "Created new user bob@acme.test",
                            "Created new user ann@acme.test"]
    assert all(r["CreatedBy"] == "CLI" for r in rows)


def test_audit_api_exports_csv_and_json(org: dict[str, str]) -> None:
    table = list(csv.DictReader(io.StringIO(run("audit", "api", "--since", "1h"))))
    assert [(r["method"], r["path"], r["status"], r["user_id"]) for r in table] == [
        ("GET", "/services/data/v59.0/limits", "200", org["ann"]),
        ("POST", "/services/data/v59.0/sobjects/Account", "201", org["bob"])]
    lines = run("audit", "api", "--format", "json").splitlines()
    assert [json.loads(line)["duration_us"] for line in lines] == [1200, 3400]


def test_apps_usage_then_revoke_one_user_for_the_app(org: dict[str, str]) -> None:
    usage = json.loads(run("apps", "usage", "Tool", "--json"))
    assert sorted((r["user"], r["access_tokens"], r["refresh_tokens"]) for r in usage) == [
        ("ann@acme.test", 2, 2), ("bob@acme.test", 1, 1)]
    assert run("tokens", "revoke", "--user", "ann@acme.test", "--app", "Tool").strip() == \
        "revoked 4 tokens"
    usage = json.loads(run("apps", "usage", "Tool", "--json"))
    assert [r["user"] for r in usage] == ["bob@acme.test"]
    setup = json.loads(run("audit", "setup", "--json"))
    assert setup[0]["Display"] == ("Revoked OAuth tokens of user ann@acme.test and connected "
                                   "app Tool")


def test_revoke_all_tokens_of_an_app(org: dict[str, str]) -> None:
    assert run("tokens", "revoke", "--app", "Tool").strip() == "revoked 6 tokens"
    assert json.loads(run("apps", "usage", "Tool", "--json")) == []


def test_revoke_needs_a_target() -> None:
    result = CliRunner().invoke(app, ["tokens", "revoke"])
    assert result.exit_code != 0
