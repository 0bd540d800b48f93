"""The directory read cache: ≤ 1 s old across replicas, a local write seen at once.

Two stores on one database stand for two replicas (each process has its own cache). Without
Redis nothing tells one replica of another's change: the TTL is the bound (the replica's cache is
``shared=False`` here so that this process's own change announcements do not reach it).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select, update

from localforce.bootstrap import Services
from localforce.caching import TtlCache
from localforce.directory.service import Directory
from localforce.domain.models import ConnectedApp
from localforce.storage.sql import tables as t
from localforce.storage.sql.directory_store import SqlDirectoryStore


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replicas(svc: Services) -> tuple[Directory, Directory, Tick, ConnectedApp]:
    """Two replicas (this one with a clock the test moves) and an org's PlatformCLI app."""
    tick = Tick()
    cache: TtlCache[object] = TtlCache(1.0, clock=tick, shared=False)
    here = replace(svc.directory, store=SqlDirectoryStore(svc.engine, cache=cache))
    there = replace(svc.directory, store=SqlDirectoryStore(svc.engine))
    org = here.create_org("Acme")
    app = here.store.find_app_by_key("PlatformCLI", org.id)
    assert app is not None
    return here, there, tick, app


def test_a_secret_rotated_on_another_replica_is_seen_within_one_second(svc: Services) -> None:
    here, there, tick, app = replicas(svc)
    rotated = there.rotate_secret(app)
    tick.now += 1.0
    assert here.check_secret(app, rotated) is True


def test_a_kept_secret_mac_is_never_used_for_a_rotated_secret(svc: Services) -> None:
    """``check_secret`` keeps the stored secret's MAC by its sealed text: once the rotation is
    seen, the old secret is tried against the new sealed text and refused."""
    here, there, tick, app = replicas(svc)
    old = here.rotate_secret(app)
    assert here.check_secret(app, old) is True  # its MAC kept
    new = there.rotate_secret(app)
    assert here.check_secret(app, old) is True  # within the one-second bound, as ever
    tick.now += 1.0
    assert here.check_secret(app, old) is False
    assert here.check_secret(app, new) is True
    assert here.check_secret(app, None) is False
    assert here.check_secret(app, "") is False


def test_a_policy_changed_on_another_replica_is_seen_within_one_second(svc: Services) -> None:
    here, there, tick, app = replicas(svc)
    assert app.require_pkce
    there.store.save_app(replace(app, require_pkce=False))
    tick.now += 0.5
    assert here.store.find_app_by_key("PlatformCLI", app.org_id) == app  # still within the bound
    tick.now += 0.5
    assert here.store.find_app_by_key("PlatformCLI", app.org_id) == replace(app, require_pkce=False)


def test_a_local_write_is_seen_at_once(svc: Services) -> None:
    here, _, _, app = replicas(svc)
    old = here.rotate_secret(app)
    assert here.check_secret(app, old) is True
    new = here.rotate_secret(app)  # the clock has not moved
    assert here.check_secret(app, old) is False
    assert here.check_secret(app, new) is True
    here.store.save_app(replace(app, require_pkce=False))
    assert not here.store.find_app_by_key("PlatformCLI", app.org_id).require_pkce  # type: ignore[union-attr]


def test_a_user_deactivated_on_another_replica_is_seen_within_one_second(svc: Services) -> None:
    here, there, tick, app = replicas(svc)
    user, _ = here.create_user(app.org_id, "u@acme.test", None, "Standard User")
    assert here.store.get_user(user.id).active  # type: ignore[union-attr]
    there.set_active(user, False)
    tick.now += 1.0
    assert not here.store.get_user(user.id).active  # type: ignore[union-attr]


def test_a_cached_username_lookup_sees_another_replica_within_one_second(
        svc: Services) -> None:
    """JWT bearer grants find their user with ``fresh=False``."""
    here, there, tick, app = replicas(svc)
    user, _ = here.create_user(app.org_id, "u@acme.test", None, "Standard User")
    assert here.store.find_user("U@acme.test", fresh=False).active  # type: ignore[union-attr]
    there.set_active(user, False)
    tick.now += 0.5
    assert here.store.find_user("u@acme.test", fresh=False).active  # type: ignore[union-attr]
    tick.now += 0.5
    assert not here.store.find_user("u@acme.test", fresh=False).active  # type: ignore[union-attr]
    here.set_active(user, True)  # a local write is seen at once
    assert here.store.find_user("u@acme.test", fresh=False).active  # type: ignore[union-attr]


def test_users_by_username_are_always_read_fresh(svc: Services) -> None:
    """Password logins read by username: their failure count (lockout) must be exact."""
    here, there, _, app = replicas(svc)
    user, _ = here.create_user(app.org_id, "u@acme.test", None, "Standard User")
    assert here.store.find_user("u@acme.test").failed_logins == 0  # type: ignore[union-attr]
    there.store.record_login_failure(user.id, None)
    assert here.store.find_user("u@acme.test").failed_logins == 1  # type: ignore[union-attr]


def test_an_org_changed_on_another_replica_is_seen_within_one_second(svc: Services) -> None:
    """JWT bearer reads the org (its My Domain audience) on every grant."""
    here, there, tick, app = replicas(svc)
    org = here.store.get_org(app.org_id)
    assert org is not None and org.my_domain is None
    there.store.save_org(replace(org, my_domain="acme"))
    tick.now += 1.0
    assert here.store.get_org(app.org_id) == replace(org, my_domain="acme")


def test_a_login_with_nothing_to_clear_keeps_the_caches_and_one_that_clears_empties_them(
        svc: Services) -> None:
    """A successful login writes LastLoginDate; when the user had no failed logins nor a lock
    to clear, nothing any cache holds changed and the caches are kept (before, every process
    read its orgs, users, apps and sessions again). Clearing a failure count empties them as
    any write does. Both write LastLoginDate."""
    store = SqlDirectoryStore(svc.engine, cache=TtlCache(60.0, shared=False))
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "a@acme.test", None, "Standard User")
    app = store.find_app_by_key("PlatformCLI", org.id)
    assert app is not None

    def behind_the_cache(name: str) -> None:
        with svc.engine.begin() as c:
            c.execute(update(t.apps).where(t.apps.c.id == app.id).values(name=name))

    def stored(column: str) -> object:
        with svc.engine.connect() as c:
            return c.execute(select(t.users.c[column]).where(t.users.c.id == user.id)).scalar()

    behind_the_cache("Renamed")
    store.record_login_success(user.id, 1_800_000_000)
    assert stored("last_login_at") == 1_800_000_000
    assert store.find_app_by_key("PlatformCLI", org.id).name == app.name  # type: ignore[union-attr]
    store.record_login_failure(user.id, None)  # a write: the caches are emptied
    assert store.find_app_by_key("PlatformCLI", org.id).name == "Renamed"  # type: ignore[union-attr]
    behind_the_cache("Renamed again")
    store.record_login_success(user.id, 1_800_000_060)
    assert (stored("last_login_at"), stored("failed_logins")) == (1_800_000_060, 0)
    assert store.find_app_by_key(  # type: ignore[union-attr]
        "PlatformCLI", org.id).name == "Renamed again"
