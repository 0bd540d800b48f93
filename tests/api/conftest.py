"""Data-API fixtures: an org with an admin and users missing each object permission.

Principals are built the way ``web/auth.py`` builds them (profile + permission sets ->
Access), so the core can be tested without minting tokens.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localforce.bootstrap import Services
from localforce.domain import ids
from localforce.domain.models import Access, ObjectPermissions, Org, PermissionSet, User
from localforce.domain.principal import Principal

VERSION = "59.0"


def principal_of(services: Services, user: User, scopes: tuple[str, ...] = ("api",)) -> Principal:
    store = services.directory.store
    profile = store.get_profile(user.profile_id)
    assert profile is not None
    sets = tuple(p for p in (store.get_permission_set(i) for i in user.permission_set_ids) if p)
    return Principal(user.org_id, user.id, user.username, None, None, scopes,
                     Access.of(profile, sets), "0" * 64)


@pytest.fixture
def org(services: Services) -> Org:
    return services.directory.create_org("Acme")


@pytest.fixture
def make_user(services: Services, org: Org) -> Callable[..., Principal]:
    """A user on ``profile`` plus a permission set granting ``grants`` ({object: [perms]})."""
    counter = iter(range(1000))

    def make(profile: str = "Minimum Access - API Only Integrations",
             grants: dict[str, list[str]] | None = None,
             scopes: tuple[str, ...] = ("api",)) -> Principal:
        n = next(counter)
        sets: tuple[str, ...] = ()
        if grants is not None:
            name = f"grants{n}"
            services.directory.store.save_permission_set(PermissionSet(
                ids.new_id("0PS"), org.id, name, objects=ObjectPermissions(
                    {k: frozenset(v) for k, v in grants.items()})))
            sets = (name,)
        user, _ = services.directory.create_user(
            org.id, f"user{n}@acme.test", "Passw0rd-long!", profile, last_name=f"User{n}",
            first_name="Test", permission_sets=sets)
        return principal_of(services, user, scopes)

    return make


@pytest.fixture
def admin(make_user: Callable[..., Principal]) -> Principal:
    return make_user("System Administrator")
