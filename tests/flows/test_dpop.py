"""DPoP (RFC 9449) through the ASGI app: proofs at the token endpoint (server nonce, binding,
``token_type: DPoP``), DPoP-bound tokens at the data API, userinfo and the identity URL
(``Authorization: DPoP`` with a proof and ``ath``), introspection's ``cnf``; every attack tried and refused with the RFC's
error; apps and clients that don't use DPoP answered as before. Proofs are hand-built with
joserfc (authlib 1.9 has no DPoP client)."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, OctKey, RSAKey
from tests.conftest import FixedClock
from tests.flows.conftest import KEY, SECRET, World

from localforce.oauth.dpop import ALGORITHMS, b64url
from localforce.oauth.issuing import IssuePolicy
from localforce.security.tokens import digest

TOKEN = "http://testserver/services/oauth2/token"
LIMITS = "http://testserver/services/data/v62.0/limits"
NO_STORE = "no-cache,must-revalidate,max-age=0,no-store,private"
ALGS = " ".join(ALGORITHMS)
SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]

KEY_A = ECKey.generate_key("P-256")
KEY_B = ECKey.generate_key("P-256")


def jkt(key: Any) -> str:
    return str(key.thumbprint())


def proof(world: World, key: Any = KEY_A, htm: str = "POST", htu: str = TOKEN, *,
          nonce: str | None = "fresh", token: str | None = None, iat: int | None = None,
          jti: str | None = None, header: dict[str, Any] | None = None,
          **claims: Any) -> str:
    """A proof by ``key``; ``nonce="fresh"`` asks the server for its current nonce."""
    now = int(world.services.oauth.clock())
    body: dict[str, Any] = {"jti": secrets.token_urlsafe(12) if jti is None else jti,
                            "htm": htm, "htu": htu,
                            "iat": now if iat is None else iat}
    if nonce == "fresh":
        nonce = world.services.oauth.proofs.nonce()
    if nonce is not None:
        body["nonce"] = nonce
    if token is not None:
        body["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    body.update(claims)
    protected = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False),
                 **(header or {})}
    return jws.serialize_compact(protected, json.dumps(body).encode(), key,
                                 algorithms=[protected["alg"]])


def client_credentials(world: World, dpop: str | None = None) -> Any:
    headers = {"DPoP": dpop} if dpop is not None else {}
    return world.client.post("/services/oauth2/token", headers=headers, data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET})


def bound_token(world: World, key: Any = KEY_A) -> str:
    response = client_credentials(world, proof(world, key))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def limits(world: World, token: str, dpop: str | None, scheme: str = "DPoP") -> Any:
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop
    return world.client.get("/services/data/v62.0/limits", headers=headers)


def challenge(error: str, description: str) -> str:
    return f'DPoP error="{error}", error_description="{description}", algs="{ALGS}"'


def refused(response: Any, error: str, description: str) -> None:
    assert response.status_code == 401
    assert response.json() == SESSION
    assert response.headers["www-authenticate"] == challenge(error, description)


# --- the token endpoint ---------------------------------------------------------------------


def test_a_proof_without_the_servers_nonce_is_answered_use_dpop_nonce(world: World) -> None:
    response = client_credentials(world, proof(world, nonce=None))
    assert response.status_code == 400
    assert response.json() == {"error": "use_dpop_nonce", "error_description":
                               "Authorization server requires nonce in DPoP proof"}
    assert response.headers["cache-control"] == NO_STORE
    nonce = response.headers["dpop-nonce"]
    # With that nonce the same request succeeds.
    again = client_credentials(world, proof(world, nonce=nonce))
    assert again.status_code == 200 and again.json()["token_type"] == "DPoP"


def test_tokens_are_bound_to_the_proofs_key_and_typed_dpop(world: World) -> None:
    body = client_credentials(world, proof(world)).json()
    assert body["token_type"] == "DPoP"
    assert set(body) == {"access_token", "signature", "scope", "instance_url", "id",
                         "token_type", "issued_at"}
    introspected = world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                                     data={"token": body["access_token"]}).json()
    assert introspected["active"] is True
    assert introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": jkt(KEY_A)}


def test_a_stale_nonce_is_answered_with_a_fresh_one(world: World, clock: FixedClock) -> None:
    old = world.services.oauth.proofs.nonce()
    clock.advance(601)  # two nonce steps later
    response = client_credentials(world, proof(world, nonce=old))
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce"
    assert response.headers["dpop-nonce"] != old


@pytest.mark.parametrize(("case", "description"), [
    ("replayed jti", "DPoP proof jti was used before"),
    ("another method", "DPoP proof htm does not match the request method"),
    ("another URL", "DPoP proof htu does not match the request URL"),
    ("stale iat", "DPoP proof iat is not recent"),
    ("future iat", "DPoP proof iat is not recent"),
    ("wrong typ", "DPoP proof typ is not dpop+jwt"),
    ("symmetric alg", "DPoP proof alg is not an accepted asymmetric algorithm"),
    ("private jwk", "DPoP proof jwk is not a public key"),
    ("another key signed", "DPoP proof signature is invalid"),
    ("no jti", "DPoP proof lacks jti, htm, htu or iat"),
    ("not a JWS", "DPoP proof is not a JWS"),
])
def test_bad_proofs_at_the_token_endpoint_are_invalid_dpop_proof(
        world: World, case: str, description: str) -> None:
    now = int(world.services.oauth.clock())
    if case == "replayed jti":
        used = proof(world)
        assert client_credentials(world, used).status_code == 200
        dpop = used
    elif case == "another method":
        dpop = proof(world, htm="GET")
    elif case == "another URL":
        dpop = proof(world, htu="http://testserver/services/oauth2/introspect")
    elif case == "stale iat":
        dpop = proof(world, iat=now - 61)
    elif case == "future iat":
        dpop = proof(world, iat=now + 61)
    elif case == "wrong typ":
        dpop = proof(world, header={"typ": "JWT"})
    elif case == "symmetric alg":
        secret = OctKey.generate_key(256)
        dpop = jws.serialize_compact({"typ": "dpop+jwt", "alg": "HS256",
                                      "jwk": secret.as_dict()}, b"{}", secret)
    elif case == "private jwk":
        dpop = proof(world, header={"jwk": KEY_A.as_dict(private=True)})
    elif case == "another key signed":
        dpop = proof(world, header={"jwk": KEY_B.as_dict(private=False)})
    elif case == "no jti":
        dpop = proof(world, jti="")
    else:
        dpop = "not.a.proof"
    response = client_credentials(world, dpop)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_dpop_proof", "error_description": description}


def test_two_dpop_headers_are_refused(world: World) -> None:
    response = world.client.post("/services/oauth2/token", headers=[
        ("DPoP", proof(world)), ("DPoP", proof(world))], data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_dpop_proof",
                               "error_description": "DPoP proof required"}


def test_an_rsa_key_works_too(world: World) -> None:
    rsa = RSAKey.generate_key(2048)
    response = client_credentials(world, proof(world, rsa, header={"alg": "PS256"}))
    body = response.json()
    assert response.status_code == 200, body
    assert body["token_type"] == "DPoP"
    assert limits(world, body["access_token"],
                  proof(world, rsa, "GET", LIMITS, nonce=None, token=body["access_token"],
                        header={"alg": "PS256"})).status_code == 200


def test_an_app_that_requires_dpop_refuses_a_request_without_a_proof(world: World) -> None:
    world.save_app(require_dpop=True)
    response = client_credentials(world)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_dpop_proof",
                               "error_description": "DPoP proof required"}
    assert client_credentials(world, proof(world)).json()["token_type"] == "DPoP"


# --- the data API ---------------------------------------------------------------------------


def test_a_bound_token_with_its_proof_reaches_the_data_api(world: World) -> None:
    token = bound_token(world)
    # A resource takes a proof without a nonce (jti and iat bound its replay).
    response = limits(world, token, proof(world, htm="GET", htu=LIMITS, nonce=None, token=token))
    assert response.status_code == 200, response.text
    # With a current nonce too; the query string is not part of htu.
    response = world.client.get("/services/data/v62.0/limits?x=1", headers={
        "Authorization": f"DPoP {token}",
        "DPoP": proof(world, htm="GET", htu=LIMITS, token=token)})
    assert response.status_code == 200


@pytest.mark.parametrize(("case", "error", "description"), [
    ("as bearer", "invalid_token", "DPoP-bound token requires the DPoP scheme"),
    ("no proof", "invalid_dpop_proof", "DPoP proof required"),
    ("another URL", "invalid_dpop_proof", "DPoP proof htu does not match the request URL"),
    ("another method", "invalid_dpop_proof",
     "DPoP proof htm does not match the request method"),
    ("wrong ath", "invalid_dpop_proof", "DPoP proof ath does not match the access token"),
    ("no ath", "invalid_dpop_proof", "DPoP proof ath does not match the access token"),
    ("another key", "invalid_token", "Session expired or invalid"),
    ("stale iat", "invalid_dpop_proof", "DPoP proof iat is not recent"),
])
def test_a_bound_token_is_refused_without_its_valid_proof(
        world: World, case: str, error: str, description: str) -> None:
    token = bound_token(world)
    now = int(world.services.oauth.clock())
    good: dict[str, Any] = {"htm": "GET", "htu": LIMITS, "nonce": None, "token": token}
    scheme, dpop = "DPoP", None
    if case == "as bearer":
        scheme = "Bearer"
    elif case == "another URL":
        dpop = proof(world, **{**good, "htu": "http://testserver/services/data/v62.0/query"})
    elif case == "another method":
        dpop = proof(world, **{**good, "htm": "POST"})
    elif case == "wrong ath":
        dpop = proof(world, **{**good, "token": token + "x"})
    elif case == "no ath":
        dpop = proof(world, **{**good, "token": None})
    elif case == "another key":
        dpop = proof(world, KEY_B, **good)
    elif case == "stale iat":
        dpop = proof(world, **good, iat=now - 120)
    refused(limits(world, token, dpop, scheme), error, description)


def test_a_replayed_proof_at_the_data_api_is_refused(world: World) -> None:
    token = bound_token(world)
    dpop = proof(world, htm="GET", htu=LIMITS, nonce=None, token=token)
    assert limits(world, token, dpop).status_code == 200
    refused(limits(world, token, dpop), "invalid_dpop_proof", "DPoP proof jti was used before")


def test_a_stale_nonce_at_the_data_api_gets_a_fresh_one(world: World, clock: FixedClock
                                                        ) -> None:
    token = bound_token(world)
    old = world.services.oauth.proofs.nonce()
    clock.advance(601)
    response = limits(world, token, proof(world, htm="GET", htu=LIMITS, nonce=old, token=token))
    refused(response, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
    assert response.headers["dpop-nonce"] == world.services.oauth.proofs.nonce()


def test_a_bearer_token_sent_as_dpop_is_refused(world: World) -> None:
    token = client_credentials(world).json()["access_token"]
    refused(limits(world, token, proof(world, htm="GET", htu=LIMITS, nonce=None, token=token)),
            "invalid_token", "Session expired or invalid")


def test_a_bound_token_is_refused_at_userinfo_as_bearer(world: World) -> None:
    token = bound_token(world)
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")


USERINFO = "http://testserver/services/oauth2/userinfo"


def userinfo(world: World, token: str, dpop: str | None, scheme: str = "DPoP") -> Any:
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop
    return world.client.get("/services/oauth2/userinfo", headers=headers)


def test_a_bound_token_with_its_proof_reads_userinfo_and_the_identity_url(
        world: World) -> None:
    granted = client_credentials(world, proof(world)).json()
    token, identity_url = granted["access_token"], granted["id"]
    bearer = client_credentials(world).json()["access_token"]
    expected = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {bearer}"}).json()
    response = userinfo(world, token, proof(world, htm="GET", htu=USERINFO, nonce=None,
                                            token=token))
    assert response.status_code == 200, response.text
    assert response.json() == expected  # the same user's claims as with a bearer token
    response = world.client.get(identity_url + "?version=62.0", headers={
        "Authorization": f"DPoP {token}",
        "DPoP": proof(world, htm="GET", htu=identity_url, nonce=None, token=token)})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == identity_url


def test_userinfo_refuses_a_bound_token_without_its_valid_proof(world: World) -> None:
    token = bound_token(world)
    good: dict[str, Any] = {"htm": "GET", "htu": USERINFO, "nonce": None, "token": token}
    for dpop, error, description in [
        (None, "invalid_dpop_proof", "DPoP proof required"),
        (proof(world, **{**good, "htu": LIMITS}), "invalid_dpop_proof",
         "DPoP proof htu does not match the request URL"),
        (proof(world, **{**good, "token": token + "x"}), "invalid_dpop_proof",
         "DPoP proof ath does not match the access token"),
    ]:
        response = userinfo(world, token, dpop)
        assert (response.status_code, response.text) == (401, "Bad_OAuth_Token")
        assert response.headers["www-authenticate"] == challenge(error, description)
    replayed = proof(world, **good)
    assert userinfo(world, token, replayed).status_code == 200
    response = userinfo(world, token, replayed)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge(
        "invalid_dpop_proof", "DPoP proof jti was used before")
    # A valid proof by another key, and a bearer token sent as DPoP: bad tokens.
    response = userinfo(world, token, proof(world, KEY_B, **good))
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")
    bearer = client_credentials(world).json()["access_token"]
    response = userinfo(world, bearer, proof(world, **{**good, "token": bearer}))
    assert (response.status_code, response.text) == (403, "Bad_OAuth_Token")


# --- refresh tokens -------------------------------------------------------------------------


def refresh(world: World, token: str, dpop: str | None, **form: str) -> Any:
    return world.client.post("/services/oauth2/token",
                             headers={"DPoP": dpop} if dpop is not None else {},
                             data={"grant_type": "refresh_token", "refresh_token": token,
                                   "client_id": KEY, **form})


def public_grant(world: World) -> dict[str, Any]:
    """What the web-server flow with a proof by KEY_A hands a public client."""
    world.save_app(has_secret=False, require_secret_refresh=False)
    world.services.directory.store.set_app_secret(world.app.id, None)
    return world.services.oauth.issuer.issue(world.app, world.user, ("api", "refresh_token"),
                                             IssuePolicy("authorization_code", with_refresh=True,
                                                         jkt=jkt(KEY_A))).body()


def test_a_public_clients_refresh_token_needs_a_proof_by_the_same_key(world: World) -> None:
    first = public_grant(world)
    assert first["token_type"] == "DPoP"
    mismatch = {"error": "invalid_dpop_proof",
                "error_description": "DPoP proof key does not match the refresh token"}
    for dpop in (None, proof(world, KEY_B)):
        response = refresh(world, first["refresh_token"], dpop)
        assert (response.status_code, response.json()) == (400, mismatch)
    # The refused attempts did not spend it: its holder refreshes with its key.
    body = refresh(world, first["refresh_token"], proof(world)).json()
    assert body["token_type"] == "DPoP" and body["refresh_token"] != first["refresh_token"]
    record = world.services.oauth.tokens.find(digest(body["refresh_token"]))
    assert record is not None and record.jkt == jkt(KEY_A)


def test_a_confidential_clients_refresh_rebinds_to_the_new_proof(world: World) -> None:
    first = world.services.oauth.issuer.issue(
        world.app, world.user, ("api", "refresh_token"),
        IssuePolicy("authorization_code", with_refresh=True, jkt=jkt(KEY_A))).body()
    body = refresh(world, first["refresh_token"], proof(world, KEY_B),
                   client_secret=SECRET).json()
    assert body["token_type"] == "DPoP"
    token = body["access_token"]
    assert limits(world, token, proof(world, KEY_B, "GET", LIMITS, nonce=None, token=token)
                  ).status_code == 200


def test_a_dpop_app_refuses_a_refresh_without_a_proof_before_rotating(world: World) -> None:
    world.save_app(require_dpop=True, rotate_refresh_tokens=True)
    first = world.services.oauth.issuer.issue(
        world.app, world.user, ("api", "refresh_token"),
        IssuePolicy("authorization_code", with_refresh=True, jkt=jkt(KEY_A))).body()
    response = refresh(world, first["refresh_token"], None, client_secret=SECRET)
    assert response.json() == {"error": "invalid_dpop_proof",
                               "error_description": "DPoP proof required"}
    again = refresh(world, first["refresh_token"], proof(world), client_secret=SECRET)
    assert again.status_code == 200 and again.json()["token_type"] == "DPoP"


# --- apps and clients that don't use DPoP -----------------------------------------------------


def test_without_a_dpop_header_nothing_changes(world: World) -> None:
    body = client_credentials(world).json()
    assert body["token_type"] == "Bearer"
    assert set(body) == {"access_token", "signature", "scope", "instance_url", "id",
                         "token_type", "issued_at"}
    token = body["access_token"]
    response = limits(world, token, None, scheme="Bearer")
    assert response.status_code == 200
    introspected = world.client.post("/services/oauth2/introspect", auth=(KEY, SECRET),
                                     data={"token": token}).json()
    assert introspected["token_type"] == "access_token" and "cnf" not in introspected
    bad = limits(world, "00Dnope!x", None, scheme="Bearer")
    assert (bad.status_code, bad.json(), bad.headers["www-authenticate"]) == (
        401, SESSION, "Token")


def test_discovery_lists_the_proof_algorithms(world: World) -> None:
    body = world.client.get("/.well-known/openid-configuration").json()
    assert body["dpop_signing_alg_values_supported"] == list(ALGORITHMS)
