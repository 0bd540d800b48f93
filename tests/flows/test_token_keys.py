"""Tokens are stored by stamped digests (security/tokens.py): what that keeps and refuses.

Tokens minted before stamps — still held by clients after an upgrade — keep working, and a
stamp copied from a live token opens nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace

from tests.flows.conftest import KEY, SECRET, World
from tests.flows.test_refresh_token import api_ok, grant, refresh

from localforce.domain import ids
from localforce.security.tokens import digest


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def stored_again(world: World, token: str, value: str) -> None:
    """Store the record of ``token`` again, as the row of ``value`` before stamps (its key
    the plain SHA-256) — what an upgraded database holds for a token minted before."""
    tokens = world.services.oauth.tokens
    record = tokens.find(digest(token))
    assert record is not None
    tokens.add(replace(record, digest=sha256(value)))


def test_issued_tokens_are_stored_by_their_stamped_digests(world: World) -> None:
    body = grant(world)
    tokens = world.services.oauth.tokens
    for token, kind in ((body["access_token"], "access"), (body["refresh_token"], "refresh")):
        record = tokens.find(digest(token))
        assert record is not None and record.kind == kind
        assert record.digest != sha256(token) and record.digest.endswith(sha256(token)[:52])
        assert tokens.find(sha256(token)) is None


def test_an_access_token_minted_before_stamps_still_opens_the_api(world: World) -> None:
    old = f"{ids.to15(world.org.id)}!AQ{secrets.token_urlsafe(72).replace('-', '.')}"
    stored_again(world, grant(world)["access_token"], old)
    assert api_ok(world, old)
    assert world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET), data={
        "token": old}).json()["active"] is True
    assert world.client.post("/services/oauth2/revoke", data={"token": old}).status_code == 200
    assert not api_ok(world, old)


def test_a_refresh_token_minted_before_stamps_still_refreshes(world: World) -> None:
    old = "5Aep861" + secrets.token_urlsafe(64)
    stored_again(world, grant(world)["refresh_token"], old)
    response = refresh(world, old)
    assert response.status_code == 200
    assert api_ok(world, response.json()["access_token"])


def test_a_live_tokens_stamp_on_other_random_text_is_refused(world: World) -> None:
    """The stamp leads the key but is no key by itself: the hash of the whole token must
    match too."""
    body = grant(world)
    access, refresh_token = body["access_token"], body["refresh_token"]
    forged_access = access[:30] + secrets.token_urlsafe(61).replace("-", ".")
    forged_refresh = refresh_token[:19] + secrets.token_urlsafe(54)
    assert len(forged_access) == len(access) and len(forged_refresh) == len(refresh_token)
    assert not api_ok(world, forged_access)
    assert refresh(world, forged_refresh).json() == {
        "error": "invalid_grant", "error_description": "expired access/refresh token"}
    assert api_ok(world, access)


def test_a_live_tokens_random_text_under_another_stamp_is_refused(world: World) -> None:
    access = grant(world)["access_token"]
    other_stamp = f"{int(access[18:30], 16) - 1:012x}"
    assert not api_ok(world, access[:18] + other_stamp + access[30:])
    assert api_ok(world, access)
