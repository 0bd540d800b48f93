"""RFC 9068 JWT access tokens, per Connected App "JWT access tokens": signed ``at+jwt`` with
the key of /id/keys, verified here with joserfc against that JWKS; the data API, userinfo,
introspection and revocation take them as opaque tokens, and a revoked one is refused."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.flows.conftest import KEY, SECRET, World

from localforce.domain import ids

NOW = 1_790_000_000
QUERY = "/services/data/v62.0/query"


def client_credentials(world: World) -> dict[str, Any]:
    response = world.client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET})
    assert response.status_code == 200, response.text
    return dict(response.json())


def query(world: World, token: str) -> int:
    return world.client.get(QUERY, params={"q": "SELECT Id FROM Account"},
                            headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_jwt_access_token_verifies_with_id_keys_and_is_taken_everywhere(
        world: World) -> None:
    world.save_app(jwt_access_tokens=True)
    body = client_credentials(world)
    token = body["access_token"]
    keys = KeySet.import_key_set(world.client.get("/id/keys").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["kid"] in {k["kid"] for k in keys.as_dict()["keys"]}
    assert decoded.claims == {
        "iss": "http://testserver", "exp": NOW + 7200, "aud": "http://testserver",
        "sub": ids.to18(world.user.id), "client_id": KEY, "iat": NOW,
        "jti": decoded.claims["jti"], "scope": "api openid id"}
    assert body["token_type"] == "Bearer" and body["scope"] == "api openid id"
    assert query(world, token) == 200
    assert world.client.get("/services/oauth2/userinfo", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200
    seen = world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                             data={"token": token}).json()
    assert (seen["active"], seen["exp"]) == (True, NOW + 7200)
    # Revocable: the server looks the token up, it does not trust the signature alone.
    assert world.client.post("/services/oauth2/revoke", data={"token": token}).status_code == 200
    assert query(world, token) == 401
    assert world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                             data={"token": token}).json() == {"active": False}


def test_each_jwt_access_token_has_its_own_jti(world: World) -> None:
    world.save_app(jwt_access_tokens=True)
    tokens = [client_credentials(world)["access_token"] for _ in range(3)]
    keys = KeySet.import_key_set(world.client.get("/id/keys").json())  # the first made one
    jtis = {jwt.decode(token, keys).claims["jti"] for token in tokens}
    assert len(jtis) == 3


def test_an_app_that_did_not_opt_in_gets_the_opaque_token(world: World) -> None:
    token = client_credentials(world)["access_token"]
    assert token.startswith(ids.to15(world.org.id) + "!AQ")


def test_an_exchanged_jwt_access_token_carries_act(world: World) -> None:
    from tests.flows.test_token_exchange import DOWN_KEY, DOWN_SECRET, exchange, user_token

    from localforce.domain.models import ConnectedApp
    world.save_app(allow_token_exchange=True)
    world.services.directory.create_app(ConnectedApp(
        id=ids.new_id("0H4"), org_id=world.org.id, name="Downstream", consumer_key=DOWN_KEY,
        callback_urls=("https://down.example.com/cb",), scopes=("api",),
        jwt_access_tokens=True), DOWN_SECRET)
    token = exchange(world, user_token(world)).json()["access_token"]
    keys = KeySet.import_key_set(world.client.get("/id/keys").json())
    claims = jwt.decode(token, keys).claims
    assert (claims["client_id"], claims["act"], claims["scope"]) == (
        DOWN_KEY, {"client_id": KEY}, "api")
    assert query(world, token) == 200
