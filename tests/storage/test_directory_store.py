"""DirectoryStore contract, run on SQLite and on PostgreSQL (the ``database_url`` fixture) and
in memory (storage/memory: the proof that the stores swap); the tests that read the SQL rows
themselves run on the SQL stores only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from tests.conftest import make_settings

from localforce.bootstrap import Services, build
from localforce.directory.audit import SetupChange
from localforce.directory.ports import Conflict
from localforce.directory.service import Directory
from localforce.domain import ids
from localforce.domain.models import (
    ConnectedApp,
    IpRange,
    IpRelaxation,
    ObjectPermissions,
    Org,
    PermissionSet,
    PermittedUsers,
    RefreshTokenPolicy,
)
from localforce.security.passwords import verify_password
from localforce.storage.memory.directory_store import MemoryDirectoryStore
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import current_revision, pending_revisions


@pytest.fixture
def svc(database_url: str, home: Path) -> Services:
    services = build(make_settings(home, database_url))
    yield services
    services.close()


@pytest.fixture(params=["sql", "memory"])
def directory(request: pytest.FixtureRequest, svc: Services) -> Directory:
    """The service over the SQL store (SQLite and PostgreSQL, as ``svc``) or over one in memory."""
    if request.param == "memory":
        return replace(svc.directory, store=MemoryDirectoryStore())
    return svc.directory


def test_migrations_create_the_schema_from_nothing(svc: Services) -> None:
    assert current_revision(svc.engine) is not None
    assert pending_revisions(svc.engine) == []
    names = set(inspect(svc.engine).get_table_names())
    assert {t.name for t in t.metadata.sorted_tables} <= names


def test_org_round_trip_and_update(directory: Directory) -> None:
    org = directory.create_org("Acme", my_domain="acme")
    store = directory.store
    assert store.get_org(org.id) == org
    store.save_org(replace(org, username_password_flow=True))
    assert store.get_org(org.id).username_password_flow is True  # type: ignore[union-attr]
    assert [o.id for o in store.list_orgs()] == [org.id]


def test_new_org_has_standard_profiles_and_platform_cli(directory: Directory) -> None:
    org = directory.create_org("Acme")
    names = {p.name for p in directory.store.list_profiles(org.id)}
    assert names == {"System Administrator", "Standard User", "Read Only",
                     "Minimum Access - API Only Integrations"}
    cli = directory.store.find_app_by_key("PlatformCLI")
    assert cli is not None and cli.builtin and not cli.has_secret and cli.require_pkce
    assert cli.callback_urls == ("http://localhost:1717/OauthRedirect",)
    assert cli.scopes == ("refresh_token", "api", "web")


def test_profile_and_permission_set_round_trip(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    profile = replace(store.find_profile(org.id, "standard user"),  # type: ignore[arg-type]
                      login_ip_ranges=(IpRange("127.0.0.1", "127.0.0.255"),))
    store.save_profile(profile)
    assert store.get_profile(profile.id) == profile
    ps = PermissionSet(ids.new_id("0PS"), org.id, "Deleter",
                       objects=ObjectPermissions({"Account": frozenset({"read", "delete"})}))
    store.save_permission_set(ps)
    assert store.find_permission_set(org.id, "DELETER") == ps
    assert store.list_permission_sets(org.id) == [ps]


def test_user_round_trip_lookup_is_case_insensitive(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    ps = PermissionSet(ids.new_id("0PS"), org.id, "Extra")
    store.save_permission_set(ps)
    user, token = directory.create_user(org.id, "Ada@Acme.test", "Secret-123!", "Standard User",
                                            first_name="Ada", last_name="Admin",
                                            permission_sets=("Extra",))
    assert store.find_user("ada@acme.TEST") == user
    assert store.get_user(user.id) == user
    assert user.permission_set_ids == (ps.id,)
    assert store.list_users(org.id) == [user]
    assert directory.security_token(user.id) == token
    store.save_user(replace(user, permission_set_ids=()))
    assert store.get_user(user.id).permission_set_ids == ()  # type: ignore[union-attr]


def test_usernames_are_unique_across_orgs(directory: Directory) -> None:
    a = directory.create_org("A")
    b = directory.create_org("B")
    directory.create_user(a.id, "same@x.test", "pw-123456", "Standard User")
    with pytest.raises(Exception, match="already taken"):
        directory.create_user(b.id, "SAME@x.test", "pw-123456", "Standard User")
    profile = directory.store.find_profile(b.id, "Standard User")
    clash = replace(directory.store.find_user("same@x.test"),  # type: ignore[arg-type]
                    id=ids.new_id("005"), org_id=b.id, profile_id=profile.id)  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        directory.store.save_user(clash)


def test_passwords_are_argon2id_and_tokens_sealed(svc: Services) -> None:
    org = svc.directory.create_org("Acme")
    user, token = svc.directory.create_user(org.id, "u@acme.test", "Secret-123!", "Standard User",
                                            security_token="TOKEN123")
    with svc.engine.connect() as c:
        row = c.execute(select(t.users).where(t.users.c.id == user.id)).mappings().one()
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "Secret-123!" not in str(dict(row)) and "TOKEN123" not in str(dict(row))
    assert verify_password(row["password_hash"], "Secret-123!")
    assert not verify_password(row["password_hash"], "secret-123!")


def test_login_failures_count_and_reset(directory: Directory) -> None:
    org = directory.create_org("Acme")
    user, _ = directory.create_user(org.id, "u@acme.test", "pw-123456", "Standard User")
    store = directory.store
    assert store.record_login_failure(user.id, None) == 1
    assert store.record_login_failure(user.id, 2_000_000_000) == 2
    locked = store.get_user(user.id)
    assert locked.failed_logins == 2 and locked.locked_until is not None  # type: ignore[union-attr]
    store.record_login_success(user.id, 1_900_000_000)
    fresh = store.get_user(user.id)
    assert fresh.failed_logins == 0 and fresh.locked_until is None  # type: ignore[union-attr]


def _app(org: Org, **kw: object) -> ConnectedApp:
    return ConnectedApp(id=ids.new_id("0H4"), org_id=org.id, name="CI", consumer_key="",
                        callback_urls=("https://app.example.com/cb",), scopes=("api",), **kw)  # type: ignore[arg-type]


def test_app_round_trip_with_every_policy(directory: Directory) -> None:
    org = directory.create_org("Acme")
    user, _ = directory.create_user(org.id, "int@acme.test", "pw-123456", "Standard User")
    app = directory.create_app(_app(
        org, enable_client_credentials=True, run_as_user_id=user.id, require_pkce=True,
        permitted_users=PermittedUsers.ADMIN_APPROVED, ip_relaxation=IpRelaxation.RELAX,
        refresh_token_policy=RefreshTokenPolicy.parse("expire_if_unused:30d"),
        rotate_refresh_tokens=True, session_timeout_minutes=15), "s3cr3t")
    store = directory.store
    assert app.consumer_key.startswith("3MVG9") and len(app.consumer_key) == 85
    assert store.find_app_by_key(app.consumer_key) == app
    assert store.find_app(org.id, "ci") == app
    assert directory.check_secret(app, "s3cr3t")
    assert not directory.check_secret(app, "s3cr3T")
    assert not directory.check_secret(app, None)


def test_consumer_secret_is_never_stored_in_plain_text(svc: Services) -> None:
    org = svc.directory.create_org("Acme")
    app = svc.directory.create_app(_app(org), "plain-secret-value")
    with svc.engine.connect() as c:
        row = c.execute(select(t.apps).where(t.apps.c.id == app.id)).mappings().one()
    assert "plain-secret-value" not in str(dict(row))
    assert row["consumer_secret_sealed"].startswith("v1:")
    assert svc.directory.reveal_secret(app) == "plain-secret-value"
    rotated = svc.directory.rotate_secret(app)
    assert svc.directory.check_secret(app, rotated)
    assert not svc.directory.check_secret(app, "plain-secret-value")


def test_duplicate_consumer_key_is_refused(directory: Directory) -> None:
    org = directory.create_org("Acme")
    directory.create_app(replace(_app(org), consumer_key="3MVG9same"), "x")
    with pytest.raises(Exception, match="already in use"):
        directory.create_app(replace(_app(org), name="Other", consumer_key="3MVG9same"), "y")


def test_transaction_rolls_back_everything(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.save_permission_set(PermissionSet(ids.new_id("0PS"), org.id, "Half"))
            raise RuntimeError("boom")
    assert store.find_permission_set(org.id, "Half") is None


def test_assignments_keep_their_ids_and_follow_the_user(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    a, b = (PermissionSet(ids.new_id("0PS"), org.id, name) for name in ("A", "B"))
    store.save_permission_set(a)
    store.save_permission_set(b)
    user, _ = directory.create_user(org.id, "u@acme.test", None, "Standard User",
                                    permission_sets=("A",))
    first = store.find_assignment(user.id, a.id)
    assert first is not None and first.id.startswith("0Pa") and first.user_id == user.id
    assert store.get_assignment(first.id) == first
    store.save_user(replace(user, permission_set_ids=(a.id, b.id)))
    assert store.find_assignment(user.id, a.id) == first
    assert store.get_user(user.id).permission_set_ids == tuple(  # type: ignore[union-attr]
        sorted((a.id, b.id)))
    store.save_user(replace(user, permission_set_ids=(b.id,)))
    assert store.find_assignment(user.id, a.id) is None and store.get_assignment(first.id) is None


def test_credentials_and_unlock(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    user, _ = directory.create_user(org.id, "u@acme.test", None, "Standard User")
    store.set_password_hash(user.id, "$argon2id$x")
    store.set_security_token(user.id, "v1:sealed")
    assert store.get_credentials(user.id) == ("$argon2id$x", "v1:sealed")
    assert store.get_credentials(ids.new_id("005")) == (None, None)
    store.record_login_failure(user.id, 2_000_000_000)
    store.save_user(replace(user, email="new@acme.test"))  # the counters are not the caller's
    assert store.get_user(user.id).failed_logins == 1  # type: ignore[union-attr]
    store.unlock_user(user.id)
    after = store.get_user(user.id)
    assert after.failed_logins == 0 and after.locked_until is None  # type: ignore[union-attr]
    assert after.email == "new@acme.test"  # type: ignore[union-attr]


def test_setup_changes_newest_first_by_org_and_time(directory: Directory) -> None:
    acme, other = directory.create_org("Acme"), directory.create_org("Other")
    store = directory.store
    made = [SetupChange(ids.new_id("0Ym"), org.id, "changedX", "Apps", f"change {n}", 1000 * n,
                        None, None) for n, org in ((1, acme), (2, acme), (3, other), (4, acme))]
    for change in made:
        store.record_setup_change(change)
    assert store.list_setup_changes(acme.id) == [made[3], made[1], made[0]]
    assert store.list_setup_changes(acme.id, since_ms=2000) == [made[3], made[1]]
    assert store.list_setup_changes(acme.id, limit=1) == [made[3]]


def test_unique_names_are_refused(directory: Directory) -> None:
    org = directory.create_org("Acme")
    store = directory.store
    with pytest.raises(Conflict):
        store.save_permission_set(PermissionSet(ids.new_id("0PS"), org.id, "Same"))
        store.save_permission_set(PermissionSet(ids.new_id("0PS"), org.id, "Same"))
    cli = store.find_app(org.id, "PlatformCLI")
    assert cli is not None
    with pytest.raises(Conflict):
        store.save_app(replace(cli, id=ids.new_id("0H4"), name="Other"))
    assert [a.name for a in store.list_apps(org.id)] == ["PlatformCLI"]


def test_pending_revisions_names_what_is_not_applied(tmp_path: Path) -> None:
    from localforce.storage.sql.engine import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'partial.db'}")
    upgrade(engine, "0001")
    pending = pending_revisions(engine)
    assert "0005_setup_audit" in pending and "0001" not in pending
    upgrade(engine)
    assert pending_revisions(engine) == []
    engine.dispose()
