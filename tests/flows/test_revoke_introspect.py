"""Revocation (RFC 7009; salesforce-wire.md §1.6) and introspection (RFC 7662; §1.5)."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import FixedClock
from tests.flows.conftest import KEY, SECRET, World

from localforce.domain import ids
from localforce.domain.models import ConnectedApp
from localforce.oauth.issuing import IssuePolicy

#: How these tests mint a refresh token (as the authorization-code grant would).
CODE_GRANT = IssuePolicy("authorization_code", with_refresh=True)

NOW = 1_790_000_000
INVALID_TOKEN = {"error": "invalid_token", "error_description": "Token was invalid"}


def grant(world: World) -> dict:  # type: ignore[type-arg]
    return world.services.oauth.issuer.issue(world.app, world.user, ("api", "refresh_token"),
                                             CODE_GRANT).body()


def works(world: World, access_token: str) -> bool:
    return world.client.get("/services/oauth2/userinfo", headers={
        "Authorization": f"Bearer {access_token}"}).status_code == 200


def introspect(world: World, token: str, auth: tuple[str, str] = (KEY, SECRET)):  # type: ignore[no-untyped-def]
    return world.client.post("/services/oauth2/introspect", auth=auth,
                             data={"token": token, "token_type_hint": "access_token"})


class TestRevoke:
    def test_post_revokes_an_access_token(self, world: World) -> None:
        tokens = grant(world)
        response = world.client.post("/services/oauth2/revoke",
                                     data={"token": tokens["access_token"]})
        assert (response.status_code, response.content) == (200, b"")
        assert not works(world, tokens["access_token"])
        # The refresh token lives on: it was not revoked.
        assert world.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                           client_id=KEY, client_secret=SECRET).status_code == 200

    def test_get_revokes_a_refresh_token_and_its_access_tokens(self, world: World,
                                                               clock: FixedClock) -> None:
        tokens = grant(world)
        later = world.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                            client_id=KEY, client_secret=SECRET).json()
        response = world.client.get(f"/services/oauth2/revoke?token={tokens['refresh_token']}")
        assert response.status_code == 200
        clock.advance(2)
        assert not works(world, tokens["access_token"])
        assert not works(world, later["access_token"])

    def test_an_authenticated_caller_cannot_revoke_another_apps_token(
            self, world: World) -> None:
        tokens = grant(world)
        other = world.services.directory.create_app(ConnectedApp(
            id=ids.new_id("0H4"), org_id=world.org.id, name="Other", consumer_key="3MVG9other",
            callback_urls=("https://other.example.com/cb",), scopes=("api",)), "other-secret")
        refused = world.client.post("/services/oauth2/revoke", auth=(other.consumer_key,
                                                                     "other-secret"),
                                    data={"token": tokens["access_token"]})
        assert (refused.status_code, refused.json()) == (400, INVALID_TOKEN)
        wrong_secret = world.client.post("/services/oauth2/revoke", data={
            "token": tokens["access_token"], "client_id": KEY, "client_secret": "nope"})
        assert (wrong_secret.status_code, wrong_secret.json()) == (400, {
            "error": "invalid_client", "error_description": "invalid client credentials"})
        assert works(world, tokens["access_token"])
        own = world.client.post("/services/oauth2/revoke", auth=(KEY, SECRET),
                                data={"token": tokens["access_token"]})
        assert own.status_code == 200
        # Salesforce's token-only call still works.
        again = grant(world)
        assert world.client.post("/services/oauth2/revoke",
                                 data={"token": again["access_token"]}).status_code == 200

    def test_head_revokes_nothing(self, world: World) -> None:
        tokens = grant(world)
        response = world.client.head(f"/services/oauth2/revoke?token={tokens['access_token']}")
        assert (response.status_code, response.headers["Allow"]) == (405, "GET, POST")
        assert works(world, tokens["access_token"])

    def test_unknown_or_repeated_revocation(self, world: World) -> None:
        tokens = grant(world)
        assert world.client.post("/services/oauth2/revoke",
                                 data={"token": tokens["access_token"]}).status_code == 200
        again = world.client.post("/services/oauth2/revoke", data={"token": tokens["access_token"]})
        assert (again.status_code, again.json()) == (400, INVALID_TOKEN)
        assert world.client.post("/services/oauth2/revoke",
                                 data={"token": "nope"}).json() == INVALID_TOKEN

    def test_missing_token(self, world: World) -> None:
        response = world.client.post("/services/oauth2/revoke")
        assert response.json() == {"error": "unsupported_token_type",
                                   "error_description": "Token type not supported"}


class TestIntrospect:
    def test_active_access_token(self, world: World) -> None:
        tokens = grant(world)
        response = introspect(world, tokens["access_token"])
        assert response.status_code == 200
        assert "no-store" in response.headers["cache-control"]
        assert response.json() == {
            "active": True, "scope": "api refresh_token", "client_id": KEY,
            "username": "admin@acme.test", "sub": world.identity_url(),
            "token_type": "access_token", "exp": NOW + 7200, "iat": NOW, "nbf": NOW}

    def test_active_refresh_token(self, world: World) -> None:
        body = introspect(world, grant(world)["refresh_token"]).json()
        assert body["token_type"] == "refresh_token"
        assert body["exp"] == NOW + 365 * 86400

    def test_inactive_for_unknown_expired_revoked(self, world: World, clock: FixedClock) -> None:
        assert introspect(world, "garbage").json() == {"active": False}
        tokens = grant(world)
        world.client.post("/services/oauth2/revoke", data={"token": tokens["access_token"]})
        assert introspect(world, tokens["access_token"]).json() == {"active": False}
        idle = grant(world)["access_token"]
        clock.advance(7200)
        assert introspect(world, idle).json() == {"active": False}

    def test_other_apps_tokens_are_inactive(self, world: World) -> None:
        world.services.directory.create_app(ConnectedApp(
            id=ids.new_id("0H4"), org_id=world.org.id, name="Other", consumer_key="3MVG9other",
            scopes=("api",)), "other-secret")
        tokens = grant(world)
        response = introspect(world, tokens["access_token"], auth=("3MVG9other", "other-secret"))
        assert response.json() == {"active": False}

    def test_requires_client_authentication(self, world: World) -> None:
        tokens = grant(world)
        response = introspect(world, tokens["access_token"], auth=(KEY, "guess"))
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_client",
                                   "error_description": "invalid client credentials"}
        response = world.client.post("/services/oauth2/introspect",
                                     data={"token": tokens["access_token"]})
        assert response.status_code == 401

    def test_inactive_user_token_is_inactive(self, world: World) -> None:
        tokens = grant(world)
        world.services.directory.store.save_user(replace(world.user, active=False))
        assert introspect(world, tokens["access_token"]).json() == {"active": False}
