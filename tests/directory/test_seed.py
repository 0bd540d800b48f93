"""The seed file: the example loads, twice is a no-op, changes update, bad files change nothing."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from localforce.bootstrap import Services
from localforce.directory.seed import SeedError, apply_seed, load_file
from localforce.storage.sql import tables as t

EXAMPLE = Path(__file__).parents[2] / "examples" / "seed.toml"


def _load(services: Services, data: dict, base: Path = EXAMPLE.parent):  # type: ignore[no-untyped-def]
    return apply_seed(services.directory, data, "seed.toml", base)


def _counts(services: Services) -> dict[str, int]:
    with services.engine.connect() as c:
        return {table.name: c.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (t.orgs, t.profiles, t.permission_sets, t.users, t.apps,
                              t.user_permission_sets)}


def _snapshot(services: Services) -> list[object]:
    with services.engine.connect() as c:
        return [sorted(tuple(map(str, r)) for r in c.execute(select(table)))
                for table in (t.orgs, t.profiles, t.permission_sets, t.users, t.apps)]


def test_example_seed_loads(services: Services) -> None:
    report = _load(services, load_file(EXAMPLE))
    store = services.directory.store
    assert report.org.id == "00D5g000004SfmEEAS"
    assert report.org.name == "Acme" and report.org.my_domain == "acme"
    admin = store.find_user("admin@acme.test")
    assert admin is not None and admin.first_name == "Ada"
    assert services.directory.security_token(admin.id) == "TOKEN123"
    app = store.find_app_by_key("3MVG9ci-integration")
    assert app is not None and app.certificate and app.certificate.startswith("-----BEGIN CERTIFICATE")
    assert services.directory.check_secret(app, "s3cr3t")
    integration = store.find_user("integration@acme.test")
    assert app.run_as_user_id == integration.id  # type: ignore[union-attr]
    profile = store.find_profile(report.org.id, "Integration")
    assert profile is not None and profile.login_ip_ranges[0].start == "127.0.0.1"


def test_loading_twice_changes_nothing(services: Services) -> None:
    _load(services, load_file(EXAMPLE))
    before = _snapshot(services)
    again = _load(services, load_file(EXAMPLE))
    assert not again.changed, (again.created, again.updated)
    assert _snapshot(services) == before


def test_a_changed_value_is_updated(services: Services) -> None:
    data = load_file(EXAMPLE)
    _load(services, data)
    data["users"][0]["first_name"] = "Grace"
    data["apps"][0]["consumer_secret"] = "n3w"
    report = _load(services, data)
    assert report.updated == ["user admin@acme.test", "app CI Integration"]
    store = services.directory.store
    assert store.find_user("admin@acme.test").first_name == "Grace"  # type: ignore[union-attr]
    app = store.find_app_by_key("3MVG9ci-integration")
    assert services.directory.check_secret(app, "n3w")  # type: ignore[arg-type]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["users"][0].update(profile="Nope"),
     "seed.toml: users[0]: field 'profile': no profile named 'Nope'"),
    (lambda d: d["apps"][0].update(callback_urls=["http://app.example.com/cb"]),
     "seed.toml: apps[0]: field 'callback_urls': callback URL 'http://app.example.com/cb' must use https (http only for loopback)"),
    (lambda d: d["users"].append(dict(d["users"][0], username="ADMIN@acme.test")),
     "seed.toml: users[2]: field 'username': duplicate 'admin@acme.test'"),
    (lambda d: d["org"].update(id="00D5g000004Sfm"),
     "seed.toml: org: field 'id': '00D5g000004Sfm' is not a 15- or 18-character org ID (00D…)"),
    (lambda d: d["org"].update(id="0015g000004SfmE"),
     "seed.toml: org: field 'id': '0015g000004SfmE' is not a 15- or 18-character org ID (00D…)"),
    (lambda d: d["users"][0].update(colour="blue"), "seed.toml: users[0]: field 'colour': unknown field"),
    (lambda d: d["apps"][0].update(run_as="ghost@acme.test"), "seed.toml: apps[0]: field 'run_as': no user 'ghost@acme.test'"),
    (lambda d: d["apps"][0].update(refresh_token_policy="forever"),
     "seed.toml: apps[0]: field 'refresh_token_policy': unknown refresh token policy 'forever'"),
    (lambda d: d["apps"][0].update(certificate="certs/missing.crt"),
     "seed.toml: apps[0]: field 'certificate': cannot read"),
    (lambda d: d["profiles"][0].update(objects={"Account": ["read", "fly"]}),
     "seed.toml: profiles[0]: field 'objects': Account: permissions must be a list of"),
    (lambda d: d["users"][0].update(active="yes"), "seed.toml: users[0]: field 'active': must be bool, not str"),
    (lambda d: d["org"].pop("name"), "seed.toml: org: field 'name': is required"),
    (lambda d: d["org"].update(lockout_attempts=4),
     "seed.toml: org: field 'lockout_attempts': must be one of 3, 5, 10 or 0 (no limit)"),
    (lambda d: d["org"].update(session_timeout_minutes=90),
     "seed.toml: org: field 'session_timeout_minutes': must be one of 15, 30, 60, 120"),
    (lambda d: d["org"].update(trusted_ip_ranges=[["10.0.0.9", "10.0.0.1"]]),
     "seed.toml: org: field 'trusted_ip_ranges': bad range ['10.0.0.9', '10.0.0.1']: bad IP "
     "range 10.0.0.9 - 10.0.0.1: the start address comes after the end address"),
    (lambda d: d["org"].update(daily_api_requests="many"),
     "seed.toml: org: field 'daily_api_requests': must be int, not str"),
])
def test_bad_files_are_refused_naming_the_field_and_nothing_is_written(
        services: Services, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = load_file(EXAMPLE)
    mutate(data)
    before = _counts(services)
    with pytest.raises(SeedError) as caught:
        _load(services, data)
    assert str(caught.value).startswith(message), str(caught.value)
    assert _counts(services) == before


def test_failure_midway_through_writing_rolls_back(services: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Validation passed, then a write failed: the transaction leaves nothing behind."""
    from localforce.directory.seed_writer import SeedWriter

    def explode(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(SeedWriter, "app", explode)
    with pytest.raises(RuntimeError):
        _load(services, load_file(EXAMPLE))
    assert _counts(services) == {name: 0 for name in _counts(services)}


def test_certificate_may_be_inline_pem(services: Services, tmp_path: Path) -> None:
    data = load_file(EXAMPLE)
    data["apps"][0]["certificate"] = (EXAMPLE.parent / "certs" / "ci.crt").read_text()
    _load(services, data, base=tmp_path)
    assert services.directory.store.find_app_by_key("3MVG9ci-integration").certificate  # type: ignore[union-attr]


def test_seed_file_path_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[org\nname=1")
    with pytest.raises(SeedError, match=r"bad.toml: file: invalid TOML"):
        load_file(bad)
    with pytest.raises(SeedError, match="not found"):
        load_file(tmp_path / "absent.toml")


def test_relative_certificate_is_read_next_to_the_seed_file(services: Services, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE.parent, tmp_path / "ex")
    data = tomllib.loads((tmp_path / "ex" / "seed.toml").read_text())
    report = apply_seed(services.directory, data, "seed.toml", tmp_path / "ex")
    assert "app CI Integration" in report.created


def test_seed_changes_are_in_the_setup_audit_trail(services: Services, clock) -> None:  # type: ignore[no-untyped-def]
    data = load_file(EXAMPLE)
    report = _load(services, data)
    store = services.directory.store
    created = {(e.action, e.display) for e in store.list_setup_changes(report.org.id)}
    assert ("createduser", "Created new user admin@acme.test") in created
    assert ("createdConnectedApp", "Created connected app CI Integration") in created
    assert ("profileCreate", "Created profile Integration") in created
    before = len(store.list_setup_changes(report.org.id))
    _load(services, data)
    assert len(store.list_setup_changes(report.org.id)) == before  # a no-op records nothing
    clock.advance(60)
    data["org"]["username_password_flow"] = True
    data["users"][1]["permission_sets"] = []
    data["users"][0]["active"] = False
    _load(services, data)
    newest = [(e.action, e.display, e.created_by_context)
              for e in store.list_setup_changes(report.org.id)[:3]]
    assert sorted(newest) == sorted([
        ("changedOAuthUsernamePasswordFlow", "Allowed OAuth Username-Password Flows", "Seed file"),
        ("deactivateduser", "Deactivated user admin@acme.test", "Seed file"),
        ("PermSetAssign", "Changed permission set assignments of user integration@acme.test",
         "Seed file"),
    ])


def test_org_policies_from_the_seed_are_set_audited_and_kept_when_left_out(
        services: Services) -> None:
    from localforce.domain.models import IpRange, OrgPolicies

    data = load_file(EXAMPLE)
    data["org"].update(lockout_attempts=3, session_timeout_minutes=30, daily_api_requests=500,
                       trusted_ip_ranges=[["10.0.0.0", "10.0.0.255"]])
    report = _load(services, data)
    wanted = OrgPolicies(lockout_attempts=3, session_timeout_minutes=30,
                         daily_api_requests=500,
                         trusted_ip_ranges=(IpRange("10.0.0.0", "10.0.0.255"),))
    org = services.directory.store.get_org(report.org.id)
    assert org is not None and org.policies == wanted
    assert services.directory.policies(org.id).lockout_minutes == 15  # the server's
    policy_actions = {"addedTrustedIpRange", "changedLockoutAttempts", "changedSessionTimeout",
                      "changedApiRequestAllocation", "changedLockoutPeriod"}
    actions = sorted(c.action for c in services.directory.store.list_setup_changes(org.id)
                     if c.action in policy_actions and c.created_by_context == "Seed file")
    assert actions == ["addedTrustedIpRange", "changedApiRequestAllocation",
                       "changedLockoutAttempts", "changedSessionTimeout"]
    assert not _load(services, data).changed
    data["org"] = {k: v for k, v in data["org"].items() if k != "lockout_attempts"}
    data["org"]["daily_api_requests"] = 600
    again = _load(services, data)
    assert again.updated == ["org Acme policies"]
    org = services.directory.store.get_org(report.org.id)
    assert org is not None and org.policies.lockout_attempts == 3  # left out: kept
    assert org.policies.daily_api_requests == 600


@pytest.mark.parametrize("flag", ["require_par", "require_dpop",
                                  "require_private_key_jwt", "allow_token_exchange",
                                  "jwt_access_tokens"])
def test_app_requirements_are_off_by_default_and_set_from_the_seed(
        services: Services, flag: str) -> None:
    data = load_file(EXAMPLE)
    _load(services, data)
    store = services.directory.store
    assert getattr(store.find_app_by_key("3MVG9ci-integration"), flag) is False
    data["apps"][0][flag] = True
    assert _load(services, data).updated == ["app CI Integration"]
    assert getattr(store.find_app_by_key("3MVG9ci-integration"), flag) is True
