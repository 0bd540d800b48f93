"""Refresh token flow (RFC 6749 §6; salesforce-wire.md §2.5): policies, rotation, binding."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.conftest import FixedClock
from tests.flows.conftest import KEY, SECRET, World

from localforce.domain import ids
from localforce.domain.models import ConnectedApp, RefreshTokenPolicy
from localforce.oauth.issuing import IssuePolicy, signature

#: How these tests mint a refresh token (as the authorization-code grant would).
CODE_GRANT = IssuePolicy("authorization_code", with_refresh=True)

EXPIRED = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
DAY = 86400


def grant(world: World, scopes: tuple[str, ...] = ("api", "refresh_token", "openid")) -> dict:  # type: ignore[type-arg]
    """What the web-server flow hands out: an access and a refresh token."""
    return world.services.oauth.issuer.issue(world.app, world.user, scopes,
                                             CODE_GRANT).body()


def refresh(world: World, token: str, **form: str):  # type: ignore[no-untyped-def]
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": KEY,
            "client_secret": SECRET, **form}
    return world.token(**{k: v for k, v in data.items() if v is not None})


def api_ok(world: World, access_token: str) -> bool:
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code == 200


def test_refresh_returns_a_new_access_token_and_no_new_refresh_token(world: World) -> None:
    first = grant(world, ("api", "refresh_token"))
    response = refresh(world, first["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    issued_at = "1790000000000"
    assert body == {
        "access_token": body["access_token"],
        "signature": signature(world.identity_url(), issued_at, SECRET),
        "scope": "api refresh_token", "instance_url": "http://testserver",
        "id": world.identity_url(), "token_type": "Bearer", "issued_at": issued_at}
    assert body["access_token"] != first["access_token"]


def test_openid_grant_gets_a_fresh_id_token(world: World) -> None:
    body = refresh(world, grant(world)["refresh_token"]).json()
    assert body["id_token"].count(".") == 2


def test_basic_auth_and_requested_narrower_scope(world: World) -> None:
    token = grant(world)["refresh_token"]
    response = world.client.post("/services/oauth2/token", auth=(KEY, SECRET), data={
        "grant_type": "refresh_token", "refresh_token": token, "scope": "api"})
    assert response.json()["scope"] == "api"
    wider = refresh(world, token, scope="api full")
    assert wider.json()["error"] == "invalid_scope"


def test_secret_required_by_default(world: World) -> None:
    token = grant(world)["refresh_token"]
    assert refresh(world, token, client_secret=None).json()["error"] == "invalid_client"
    assert refresh(world, token, client_secret="guess").json()["error"] == "invalid_client"


def test_secret_optional_when_the_app_says_so_but_checked_when_sent(world: World) -> None:
    world.save_app(require_secret_refresh=False)
    token = grant(world)["refresh_token"]
    assert refresh(world, token, client_secret=None).status_code == 200
    assert refresh(world, token, client_secret="guess").json()["error"] == "invalid_client"


@pytest.mark.parametrize("token", ["", "5Aep861nope", "00Dxx!notarefreshtoken"])
def test_unknown_token(world: World, token: str) -> None:
    response = refresh(world, token)
    assert (response.status_code, response.json()) == (400, EXPIRED)


def test_an_access_token_is_not_a_refresh_token(world: World) -> None:
    assert refresh(world, grant(world)["access_token"]).json() == EXPIRED


def test_refresh_token_of_another_app_is_refused(world: World) -> None:
    other = world.services.directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=world.org.id, name="Other", consumer_key="3MVG9other",
        scopes=("api", "refresh_token")), "other-secret")
    token = grant(world)["refresh_token"]
    response = refresh(world, token, client_id=other.consumer_key, client_secret="other-secret")
    assert response.json() == EXPIRED
    assert refresh(world, token).status_code == 200  # still good for its own app


def test_revoked_refresh_token(world: World) -> None:
    token = grant(world)["refresh_token"]
    assert world.client.post("/services/oauth2/revoke", data={"token": token}).status_code == 200
    assert refresh(world, token).json() == EXPIRED


def test_policy_immediately_expire(world: World) -> None:
    world.save_app(refresh_token_policy=RefreshTokenPolicy("immediately_expire"))
    assert refresh(world, grant(world)["refresh_token"]).json() == EXPIRED


def test_policy_expire_after(world: World, clock: FixedClock) -> None:
    world.save_app(refresh_token_policy=RefreshTokenPolicy("expire_after", DAY))
    token = grant(world)["refresh_token"]
    clock.advance(DAY - 1)
    assert refresh(world, token).status_code == 200
    clock.advance(1)
    assert refresh(world, token).json() == EXPIRED


def test_policy_expire_if_unused(world: World, clock: FixedClock) -> None:
    world.save_app(refresh_token_policy=RefreshTokenPolicy("expire_if_unused", DAY))
    token = grant(world)["refresh_token"]
    clock.advance(DAY - 10)
    assert refresh(world, token).status_code == 200  # use restarts the window
    clock.advance(DAY - 10)
    assert refresh(world, token).status_code == 200
    clock.advance(DAY)
    assert refresh(world, token).json() == EXPIRED


def test_absolute_maximum_lifetime(world: World, clock: FixedClock) -> None:
    token = grant(world)["refresh_token"]
    clock.advance(365 * DAY - 1)
    assert refresh(world, token).status_code == 200
    clock.advance(1)
    assert refresh(world, token).json() == EXPIRED


def test_inactive_user_cannot_refresh(world: World) -> None:
    token = grant(world)["refresh_token"]
    world.services.directory.store.save_user(replace(world.user, active=False))
    assert refresh(world, token).json()["error"] == "inactive_user"


class TestRotation:
    @pytest.fixture(autouse=True)
    def rotating(self, world: World) -> None:
        world.save_app(rotate_refresh_tokens=True)

    def test_each_use_returns_a_new_refresh_token(self, world: World) -> None:
        first = grant(world)
        second = refresh(world, first["refresh_token"]).json()
        assert second["refresh_token"] not in (None, first["refresh_token"])
        third = refresh(world, second["refresh_token"]).json()
        assert third["refresh_token"] != second["refresh_token"]

    def test_reusing_a_rotated_token_kills_the_whole_family(self, world: World,
                                                           clock: FixedClock) -> None:
        first = grant(world)
        second = refresh(world, first["refresh_token"]).json()
        assert api_ok(world, first["access_token"]) and api_ok(world, second["access_token"])
        # The attacker (or a confused client) replays the rotated token.
        assert refresh(world, first["refresh_token"]).json() == EXPIRED
        # Everything from that grant is dead: the current refresh token and every session.
        assert refresh(world, second["refresh_token"]).json() == EXPIRED
        clock.advance(2)  # past the 1-second session cache
        assert not api_ok(world, first["access_token"])
        assert not api_ok(world, second["access_token"])

    def test_narrowed_access_keeps_the_refresh_tokens_scope(self, world: World) -> None:
        first = grant(world)
        narrowed = refresh(world, first["refresh_token"], scope="api").json()
        assert narrowed["scope"] == "api"
        again = refresh(world, narrowed["refresh_token"]).json()
        assert again["scope"] == "api refresh_token openid"


class TestPublicClients:
    """RFC 9700 §2.2.2: a refresh token that needs no secret must rotate; the one deviation
    from Salesforce. The built-in PlatformCLI keeps Salesforce's behaviour (sf reuses its
    first refresh token)."""

    def test_a_public_apps_refresh_tokens_rotate_even_when_it_did_not_opt_in(
            self, world: World, clock: FixedClock) -> None:
        world.save_app(has_secret=False, require_secret_refresh=False,
                       rotate_refresh_tokens=False)
        world.services.directory.store.set_app_secret(world.app.id, None)  # a public client
        first = grant(world)
        second = refresh(world, first["refresh_token"], client_secret=None).json()
        assert second["refresh_token"] not in (None, first["refresh_token"])
        # The stolen first token, replayed, is refused and takes the family with it.
        assert refresh(world, first["refresh_token"], client_secret=None).json() == EXPIRED
        assert refresh(world, second["refresh_token"], client_secret=None).json() == EXPIRED
        clock.advance(2)
        assert not api_ok(world, second["access_token"])

    def test_a_confidential_app_keeps_salesforces_default(self, world: World) -> None:
        first = grant(world)
        again = refresh(world, first["refresh_token"]).json()
        assert "refresh_token" not in again
        assert "access_token" in refresh(world, first["refresh_token"]).json()

    def test_platform_cli_keeps_its_refresh_token_as_the_sf_cli_expects(self,
                                                                         world: World) -> None:
        cli = world.services.directory.store.find_app(world.org.id, "PlatformCLI")
        assert cli is not None and cli.builtin and not cli.has_secret
        body = world.services.oauth.issuer.issue(cli, world.user, ("api", "refresh_token"),
                                                 CODE_GRANT).body()
        for _ in range(2):
            again = world.token(grant_type="refresh_token", client_id="PlatformCLI",
                                refresh_token=body["refresh_token"]).json()
            assert "access_token" in again and "refresh_token" not in again
