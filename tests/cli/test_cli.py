"""The CLI, run in-process with Typer's runner against a temporary home."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from tests.conftest import modules_after
from typer.testing import CliRunner

from localforce.cli.main import app
from localforce.storage.sql.engine import pending_revisions

EXAMPLE = Path(__file__).parents[2] / "examples" / "seed.toml"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOCALFORCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LOCALFORCE_SECRET_KEY", raising=False)
    monkeypatch.delenv("LOCALFORCE_DATABASE_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), input=input)
        return result

    return invoke


def test_version(run) -> None:  # type: ignore[no-untyped-def]
    result = run("version")
    assert result.exit_code == 0 and result.output.startswith("localforce 0.1.0")


def test_init_creates_a_0600_master_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("init")
    assert result.exit_code == 0, result.output
    key = tmp_path / "home" / "master.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "database ready at revision 0" in result.output
    from localforce.bootstrap import build
    from localforce.settings import Settings

    svc = build(Settings(), migrate=False)
    try:
        assert pending_revisions(svc.engine) == []
    finally:
        svc.close()


def test_seed_then_list_and_show(run) -> None:  # type: ignore[no-untyped-def]
    result = run("seed", str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["org"] == "00D5g000004SfmEEAS"
    again = json.loads(run("seed", str(EXAMPLE), "--json").output)
    assert again["created"] == [] and again["updated"] == []

    users = json.loads(run("users", "list", "--json").output)
    assert [u["username"] for u in users] == ["admin@acme.test", "integration@acme.test"]
    apps = json.loads(run("apps", "list", "--json").output)
    assert {a["name"] for a in apps} == {"CI Integration", "PlatformCLI"}
    assert all("consumer_secret" not in a for a in apps)

    hidden = json.loads(run("apps", "show", "CI Integration", "--json").output)
    assert "consumer_secret" not in hidden and hidden["has_secret"] is True
    shown = json.loads(run("apps", "show", "CI Integration", "--reveal-secret", "--json").output)
    assert shown["consumer_secret"] == "s3cr3t"

    rotated = json.loads(run("apps", "rotate-secret", "CI Integration", "--json").output)
    assert rotated["consumer_secret"] != "s3cr3t"
    shown = json.loads(run("apps", "show", "CI Integration", "--reveal-secret", "--json").output)
    assert shown["consumer_secret"] == rotated["consumer_secret"]

    profiles = json.loads(run("profiles", "list", "--json").output)
    assert "Integration" in {p["name"] for p in profiles}


def test_users_and_apps_create(run) -> None:  # type: ignore[no-untyped-def]
    assert run("seed", str(EXAMPLE)).exit_code == 0
    made = run("users", "create", "new@acme.test", "--password", "Pw-123456", "--profile",
               "Read Only", "--json")
    assert made.exit_code == 0, made.output
    assert len(json.loads(made.output)["security_token"]) == 24
    bad = run("users", "create", "x@acme.test", "--password", "Pw-123456", "--profile", "Nope")
    assert bad.exit_code == 2 and "no profile named 'Nope'" in bad.output
    app_made = json.loads(run("apps", "create", "Tool", "--callback-url",
                              "http://localhost:9/cb", "--json").output)
    assert app_made["consumer_key"].startswith("3MVG9") and len(app_made["consumer_secret"]) == 64
    insecure = run("apps", "create", "Bad", "--callback-url", "http://example.com/cb")
    assert insecure.exit_code == 2 and "must use https" in insecure.output
    assert run("users", "set-password", "new@acme.test", "--password", "Other-123456").exit_code == 0


def test_bad_seed_exits_2_with_the_field(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('[org]\nname = "X"\n[[users]]\nusername = "a@x.test"\nprofile = "Ghost"\n')
    result = run("seed", str(bad))
    assert result.exit_code == 2
    assert "users[0]: field 'profile': no profile named 'Ghost'" in result.output.replace("\n", "")


@pytest.mark.parametrize("flag", ["require_par", "require_dpop", "require_private_key_jwt",
                                  "allow_token_exchange", "jwt_access_tokens"])
def test_apps_create_with_a_requirement_and_show_it(run, flag: str) -> None:  # type: ignore[no-untyped-def]
    assert run("seed", str(EXAMPLE)).exit_code == 0
    made = run("apps", "create", "Strict", "--callback-url", "https://s.example/cb",
               "--" + flag.replace("_", "-"), "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(run("apps", "show", "Strict", "--json").output)[flag] is True
    assert json.loads(run("apps", "show", "CI Integration", "--json").output)[flag] is False


def test_unlock_deactivate_and_audit_trail(run) -> None:  # type: ignore[no-untyped-def]
    from localforce.bootstrap import build
    from localforce.settings import Settings

    assert run("seed", str(EXAMPLE)).exit_code == 0
    assert run("users", "deactivate", "integration@acme.test").exit_code == 0
    assert run("users", "activate", "integration@acme.test").exit_code == 0
    assert run("users", "unlock", "integration@acme.test").exit_code == 0
    assert run("users", "unlock", "ghost@acme.test").exit_code == 2
    svc = build(Settings())
    try:
        org = svc.directory.default_org()
        entries = svc.directory.store.list_setup_changes(org.id)  # type: ignore[union-attr]
    finally:
        svc.close()
    recent = [(e.action, e.display, e.created_by_context) for e in entries[:3]]
    assert recent == [
        ("unlockeduser", "Unlocked user integration@acme.test", "CLI"),
        ("activateduser", "Activated user integration@acme.test", "CLI"),
        ("deactivateduser", "Deactivated user integration@acme.test", "CLI"),
    ]
    seeded = {e.action for e in entries if e.created_by_context == "Seed file"}
    assert {"createduser", "createdConnectedApp", "insertCertificate", "profileCreate",
            "PermSetCreate", "PermSetAssign"} <= seeded


def test_keys_rotate_publishes_ahead_and_db_purge(run) -> None:  # type: ignore[no-untyped-def]
    assert run("seed", str(EXAMPLE)).exit_code == 0
    first = json.loads(run("keys", "list", "--json").output)
    assert len(first) == 1 and first[0]["signing"] is True
    new = json.loads(run("keys", "rotate", "--publish-ahead-hours", "24", "--json").output)
    keys = {k["kid"]: k for k in json.loads(run("keys", "list", "--json").output)}
    assert set(keys) == {first[0]["kid"], new["kid"]}
    assert keys[first[0]["kid"]]["signing"] is True      # the old key signs until the new starts
    assert keys[first[0]["kid"]]["retire_after"] is not None
    assert keys[new["kid"]]["signing"] is False
    purged = json.loads(run("db", "purge", "--json").output)
    assert purged == {"tokens": 0, "grants": 0, "jwt_ids": 0}


def test_expected_failures_are_one_line_without_a_traceback(run) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: a duplicate name and an unreachable database printed tracebacks."""
    assert run("seed", str(EXAMPLE)).exit_code == 0
    assert run("apps", "create", "Tool", "--callback-url", "http://localhost:9/cb").exit_code == 0
    again = run("apps", "create", "Tool", "--callback-url", "http://localhost:9/cb")
    assert (again.exit_code, again.output) == (
        2, "error: name: an app named 'Tool' already exists\n")
    unreachable = run("apps", "list", "--database-url",
                      "postgresql://someone:hunter2@127.0.0.1:1/nothing")
    assert unreachable.exit_code == 1
    assert unreachable.output.startswith(
        "error: cannot open the database postgresql://someone:***@127.0.0.1:1/nothing: ")
    assert "Traceback" not in unreachable.output and "hunter2" not in unreachable.output
    assert unreachable.output.count("\n") == 1
    # --debug shows what happened underneath.
    debug = run("--debug", "apps", "list", "--database-url", "postgresql://x@127.0.0.1:1/y")
    assert debug.exit_code == 1 and type(debug.exception).__name__ == "OperationalError"


def test_org_set_changes_the_settings_in_force_and_audits_each(run) -> None:  # type: ignore[no-untyped-def]
    assert run("seed", str(EXAMPLE)).exit_code == 0
    shown = json.loads(run("org", "show", "--json").output)
    assert (shown["lockout_attempts"], shown["lockout_attempts_source"]) == (10, "server")
    result = run("org", "set", "--lockout-attempts", "3", "--session-timeout", "30",
                 "--api-requests", "1000", "--trusted-ip-range", "10.0.0.0-10.0.0.255",
                 "--trusted-ip-range", "::1", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["lockout_attempts"], shown["lockout_attempts_source"]) == (3, "org")
    assert shown["session_timeout_minutes"] == 30 and shown["daily_api_requests"] == 1000
    assert shown["trusted_ip_ranges"] == ["10.0.0.0-10.0.0.255", "::1-::1"]
    trail = json.loads(run("audit", "setup", "--json").output)
    actions = sorted(e["Action"] for e in trail if e["Section"] in (
        "Password Policies", "Session Settings", "Network Access", "Company Profile"))
    assert actions == ["addedTrustedIpRange", "addedTrustedIpRange",
                       "changedApiRequestAllocation", "changedLockoutAttempts",
                       "changedSessionTimeout"]
    bad = run("org", "set", "--lockout-minutes", "45")
    assert bad.exit_code == 2
    assert "lockout_minutes: must be one of 15, 30, 60 or 0" in bad.output
    bad = run("org", "set", "--trusted-ip-range", "10.0.0.9-10.0.0.1")
    assert bad.exit_code == 2 and "start address comes after the end address" in bad.output
    cleared = json.loads(run("org", "set", "--no-trusted-ip-ranges", "--json").output)
    assert cleared["trusted_ip_ranges"] == []


def test_serve_refuses_a_port_in_use_and_an_unknown_server_in_one_line(run) -> None:  # type: ignore[no-untyped-def]
    """Before a server starts: granian reports a port in use as a Rust panic with its
    backtrace, so ``serve`` asks first."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for server in ("granian", "uvicorn"):
            busy = run("serve", "--port", str(port), "--server", server)
            assert (busy.exit_code, busy.output) == (
                2, f"error: 127.0.0.1:{port} is in use (another server?); choose another "
                   "with --port\n")
    unknown = run("serve", "--server", "hypercorn")
    assert (unknown.exit_code, unknown.output) == (
        2, "error: --server must be one of granian, uvicorn\n")


@pytest.mark.parametrize("command", [("serve", "--no-maintenance"), ("users", "list")])
def test_a_setting_that_does_not_fit_is_one_line_and_exit_2(  # type: ignore[no-untyped-def]
        run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]) -> None:
    monkeypatch.setenv("LOCALFORCE_CACHE_SECONDS", "-1")
    result = run(*command)
    assert (result.exit_code, result.output) == (
        2, "error: LOCALFORCE_CACHE_SECONDS: must be at least 0, got -1\n")
    assert not (tmp_path / "home" / "localforce.db").exists()  # refused before anything


def test_a_command_imports_its_module_only_when_it_runs() -> None:
    """``serve`` then imports little before it execs the supervisor (web/supervisor.py)."""
    imported = modules_after("from typer.main import get_command\n"
                             "from localforce.cli.main import app\n"
                             "get_command(app).get_command(None, 'serve')")
    assert "localforce.cli.serve" in imported
    assert not imported & {"localforce.cli.apps", "localforce.cli.store", "localforce.bootstrap",
                           "localforce.web.asgi", "sqlalchemy", "cryptography"}


def test_a_mistyped_command_is_told_the_near_ones(run) -> None:  # type: ignore[no-untyped-def]
    result = run("serv")
    assert result.exit_code == 2
    assert "No such command 'serv'. Did you mean 'serve'" in " ".join(result.output.split())
