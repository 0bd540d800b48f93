"""private_key_jwt client authentication (RFC 7523 §2.2) through the ASGI app: assertions
signed by authlib (``private_key_jwt_sign``) with the key of the app's certificate, at the
token, introspection, revocation and PAR endpoints; replay, another audience, another key,
an expired assertion and a secret beside it refused with ``invalid_client``; the per-app
"require private_key_jwt"."""

from __future__ import annotations

from typing import Any

import pytest
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from joserfc.jwk import RSAKey
from tests.flows.conftest import KEY, SECRET, KeyPair, World

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN = "http://testserver/services/oauth2/token"
INVALID = {"error": "invalid_client", "error_description": "invalid client assertion"}


def assertion(world: World, key: bytes, aud: str = TOKEN, lifetime: int = 120,
              **claims: Any) -> str:
    now = int(world.services.oauth.clock())
    signed = private_key_jwt_sign(RSAKey.import_key(key), KEY, aud, claims=claims or None, issued_at=now,
                                  expires_at=now + lifetime)
    return signed.decode() if isinstance(signed, bytes) else str(signed)


def client_credentials(world: World, signed: str | None, **extra: str) -> Any:
    form = {"grant_type": "client_credentials", **extra}
    if signed is not None:
        form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=signed)
    return world.client.post("/services/oauth2/token", data=form)


def test_a_client_authenticates_with_a_signed_assertion(world: World, key_pair: KeyPair
                                                        ) -> None:
    response = client_credentials(world, assertion(world, key_pair.private_pem))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    # client_id may be sent too; the issuer URL is an accepted audience as well.
    again = client_credentials(world, assertion(world, key_pair.private_pem,
                                                aud="http://testserver"), client_id=KEY)
    assert again.status_code == 200, again.text


def test_a_replayed_assertion_is_refused(world: World, key_pair: KeyPair) -> None:
    signed = assertion(world, key_pair.private_pem)
    assert client_credentials(world, signed).status_code == 200
    replay = client_credentials(world, signed)
    assert (replay.status_code, replay.json()) == (400, INVALID)


@pytest.mark.parametrize("case", ["another audience", "another key", "expired", "too long",
                                  "with a secret", "other type", "not a JWT"])
def test_bad_assertions_are_invalid_client(world: World, key_pair: KeyPair,
                                           other_key_pair: KeyPair, case: str) -> None:
    extra: dict[str, str] = {}
    signed = assertion(world, key_pair.private_pem)
    if case == "another audience":
        signed = assertion(world, key_pair.private_pem, aud="https://elsewhere.example/token")
    elif case == "another key":
        signed = assertion(world, other_key_pair.private_pem)
    elif case == "expired":
        signed = assertion(world, key_pair.private_pem, lifetime=-120)
    elif case == "too long":
        signed = assertion(world, key_pair.private_pem, lifetime=3600 + 61)
    elif case == "with a secret":
        extra = {"client_id": KEY, "client_secret": SECRET}
    elif case == "not a JWT":
        signed = "nope"
    form: dict[str, str] = {"client_assertion_type": ASSERTION_TYPE, **extra}
    if case == "other type":
        form["client_assertion_type"] = "urn:example:other"
    response = world.client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": KEY, "client_assertion": signed,
        **form})
    assert (response.status_code, response.json()) == (400, INVALID)


def test_an_app_that_requires_it_refuses_its_secret(world: World, key_pair: KeyPair) -> None:
    world.save_app(require_private_key_jwt=True)
    response = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
    assert (response.status_code, response.json()) == (
        400, {"error": "invalid_client", "error_description": "client assertion required"})
    assert client_credentials(world, assertion(world, key_pair.private_pem)).status_code == 200


def test_introspect_revoke_and_par_take_an_assertion(world: World, key_pair: KeyPair) -> None:
    token = client_credentials(world, assertion(world, key_pair.private_pem)).json()[
        "access_token"]
    base = "http://testserver/services/oauth2/"

    def auth(endpoint: str) -> dict[str, str]:
        return {"client_id": KEY, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion(world, key_pair.private_pem, aud=base + endpoint)}

    introspected = world.client.post(base + "introspect", data={"token": token,
                                                                **auth("introspect")})
    assert introspected.status_code == 200 and introspected.json()["active"] is True
    pushed = world.client.post(base + "par", data={
        "response_type": "code", "redirect_uri": "https://app.example.com/cb",
        "scope": "api", **auth("par")})
    assert pushed.status_code == 201, pushed.text
    revoked = world.client.post(base + "revoke", data={"token": token, **auth("revoke")})
    assert revoked.status_code == 200
    # A replayed assertion at introspection: the client fails to authenticate (401).
    signed = auth("introspect")
    assert world.client.post(base + "introspect", data={"token": token, **signed}
                             ).status_code == 200
    again = world.client.post(base + "introspect", data={"token": token, **signed})
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"


def test_discovery_advertises_private_key_jwt(world: World) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    assert body["token_endpoint_auth_methods_supported"] == [
        "client_secret_post", "client_secret_basic", "private_key_jwt"]
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
