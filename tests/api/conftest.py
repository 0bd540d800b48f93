"""Data-API fixtures: an org with an admin and users missing each object permission.

Principals are built the way ``web/auth.py`` builds them (profile + permission sets ->
Access), so the core can be tested without minting tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.domain import ids
from localforce.domain.models import Access, ObjectPermissions, Org, PermissionSet, User
from localforce.domain.principal import Principal
from localforce.web.app import create_app

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


class Api:
    """The data API through the ASGI app, as one user (a real access token)."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def url(self, path: str) -> str:
        return f"/services/data/v{VERSION}{path}"

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(self.url(path), headers={**self.headers, **kw.pop("headers", {})},
                               **kw)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(self.url(path), json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(self.url(path), json=body, headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(self.url(path), headers=self.headers)

    def query(self, soql: str) -> Any:
        return self.get("/query", params={"q": soql})


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), base_url="http://testserver",
                    client=("127.0.0.1", 50000)) as c:  # a local client: plain HTTP is fine
        yield c


@pytest.fixture
def api_as(services: Services, client: TestClient) -> Callable[[Principal], Api]:
    def make(principal: Principal) -> Api:
        user = services.directory.store.get_user(principal.user_id)
        assert user is not None
        return Api(client, services.oauth.issuer.issue_session(user).access_token)

    return make


@pytest.fixture
def api(admin: Principal, api_as: Callable[[Principal], Api]) -> Api:
    """The data API as the org's System Administrator."""
    return api_as(admin)
