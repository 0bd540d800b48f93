"""Refresh-token grants are logins: each writes a LoginHistory row ("Remote Access 2.0", like
every other OAuth flow), ``Success`` or the refusal's status; a token that is simply expired,
unknown or replayed is no login and writes none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.flows import conftest as flows
from tests.flows.conftest import KEY, SECRET, World

from localforce.oauth.issuing import IssuePolicy

key_pair, world = flows.key_pair, flows.world  # shared fixtures

TOKEN_URL = "http://testserver/services/oauth2/token"


def _refresh_token(world: World) -> str:
    """A refresh token as a web-server-flow grant would have issued it."""
    issued = world.services.oauth.issuer.issue(world.app, world.user, ("api", "refresh_token"),
                                               IssuePolicy("authorization_code", with_refresh=True))
    return str(issued.refresh_token)


def _refresh(world: World, token: str) -> Any:
    return world.token(grant_type="refresh_token", refresh_token=token, client_id=KEY,
                       client_secret=SECRET)


def _row(world: World, status: str) -> dict[str, object]:
    return {"org_id": world.org.id, "user_id": world.user.id, "username": "admin@acme.test",
            "login_type": "Remote Access 2.0", "source_ip": "127.0.0.1", "status": status,
            "application": "Acme Integration", "app_id": world.app.id, "browser": None,
            "platform": None, "login_url": TOKEN_URL, "api_type": None, "api_version": None}


def _history(world: World) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if k not in ("id", "login_time")}
            for row in world.history()]


def test_a_refresh_writes_a_success_row(world: World) -> None:
    token = _refresh_token(world)
    assert _refresh(world, token).status_code == 200
    assert _refresh(world, token).status_code == 200
    assert _history(world) == [_row(world, "Success"), _row(world, "Success")]


def test_a_refused_refresh_writes_the_refusal(world: World) -> None:
    token = _refresh_token(world)
    world.services.directory.store.save_user(replace(world.user, active=False))
    response = _refresh(world, token)
    assert (response.status_code, response.json()["error"]) == (400, "inactive_user")
    assert _history(world) == [_row(world, "User is inactive")]


def test_a_refresh_leaves_the_lockout_count_alone(world: World) -> None:
    """A refresh token proves no password: it must not reset failed password attempts."""
    token = _refresh_token(world)
    world.token(grant_type="password", client_id=KEY, client_secret=SECRET,
                username="admin@acme.test", password="wrong")
    assert _refresh(world, token).status_code == 200
    user = world.services.directory.store.get_user(world.user.id)
    assert user is not None and user.failed_logins == 1
    assert [r["status"] for r in _history(world)] == ["Invalid Password", "Success"]


def test_expired_unknown_and_replayed_tokens_write_no_row(world: World) -> None:
    world.save_app(rotate_refresh_tokens=True)
    token = _refresh_token(world)
    assert _refresh(world, token).status_code == 200
    replayed = _refresh(world, token)  # rotated away: a replay, refused
    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_grant")
    assert _refresh(world, "5Aep861unknown").status_code == 400
    assert _history(world) == [_row(world, "Success")]
