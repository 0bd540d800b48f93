"""Identity URL, userinfo (salesforce-wire.md §1.3, §1.4), discovery and JWKS (§1.1, §1.2)."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.conftest import FixedClock
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.domain import ids


def access_token(world: World, scope: str = "api id openid") -> str:
    return str(world.token(grant_type="client_credentials", client_id=KEY,
                           client_secret=SECRET, scope=scope).json()["access_token"])


def test_identity_url_with_bearer(world: World) -> None:
    path = world.identity_url().replace("http://testserver", "")
    response = world.client.get(path + "?format=json",
                                headers={"Authorization": f"Bearer {access_token(world)}"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.identity_url()
    assert (body["user_id"], body["organization_id"]) == (ids.to18(world.user.id),
                                                          ids.to18(world.org.id))
    assert (body["username"], body["display_name"], body["email"]) == (
        "admin@acme.test", "Ada Admin", "admin@acme.test")
    assert body["urls"]["rest"] == "http://testserver/services/data/v{version}/"
    assert body["urls"]["partner"].endswith(f"/services/Soap/u/{{version}}/{ids.to15(world.org.id)}")
    assert body["active"] is True and body["user_type"] == "STANDARD"


def test_identity_url_with_oauth_token_parameter_and_version(world: World) -> None:
    path = world.identity_url().replace("http://testserver", "")
    response = world.client.get(path, params={"oauth_token": access_token(world),
                                              "format": "json", "version": "59.0"})
    assert response.json()["urls"]["query"] == "http://testserver/services/data/v59.0/query/"


def test_identity_url_of_another_user_is_refused(world: World) -> None:
    other, _ = world.services.directory.create_user(world.org.id, "bob@acme.test", None,
                                                    "Standard User")
    path = world.identity_url(other).replace("http://testserver", "")
    response = world.client.get(path, headers={"Authorization": f"Bearer {access_token(world)}"})
    assert (response.status_code, response.text) == (403, "Bad_Id")


def test_bad_token_is_bad_oauth_token(world: World) -> None:
    path = world.identity_url().replace("http://testserver", "")
    for headers in ({"Authorization": "Bearer 00Dnope!x"}, {}):
        response = world.client.get(path, headers=headers)
        assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")


def test_userinfo(world: World) -> None:
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {access_token(world)}"})
    assert response.status_code == 200
    body = response.json()
    assert body["sub"] == world.identity_url()
    assert (body["user_id"], body["organization_id"], body["preferred_username"]) == (
        ids.to18(world.user.id), ids.to18(world.org.id), "admin@acme.test")
    assert (body["name"], body["given_name"], body["family_name"]) == ("Ada Admin", "Ada",
                                                                      "Admin")


def test_revoked_token_is_refused_by_userinfo(world: World, clock: FixedClock) -> None:
    token = access_token(world)
    world.client.post("/services/oauth2/revoke", data={"token": token})
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")


def test_openid_configuration_lists_what_is_implemented(world: World) -> None:
    response = world.client.get("/.well-known/openid-configuration")
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/services/oauth2/token"
    assert body["jwks_uri"] == "http://testserver/id/keys"
    assert body["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"password", "client_credentials", "refresh_token",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"} <= set(body["grant_types_supported"])
    assert "registration_endpoint" not in body
    assert body["device_authorization_endpoint"] == "http://testserver/services/oauth2/device/code"
    assert body["response_types_supported"] == ["code", "token", "token id_token"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["code_challenge_methods_supported"] == ["S256"]


def test_id_token_verifies_against_the_published_jwks(world: World) -> None:
    # The password grant: the client-credentials response carries no id_token (wire §2.7).
    body = world.token(grant_type="password", client_id=KEY, client_secret=SECRET,
                       username=world.user.username, password=PASSWORD + SECURITY_TOKEN).json()
    keys = world.client.get("/id/keys").json()
    assert {k["kty"] for k in keys["keys"]} == {"RSA"}
    assert all(k["kid"] and k["alg"] == "RS256" and k["use"] == "sig" for k in keys["keys"])
    assert all("d" not in k for k in keys["keys"])  # public parts only
    token = jwt.decode(body["id_token"], KeySet.import_key_set(keys))
    assert token.header["kid"] in {k["kid"] for k in keys["keys"]}
    assert token.claims["aud"] == KEY
    assert token.claims["exp"] - token.claims["iat"] == 300
    assert token.claims["at_hash"]
