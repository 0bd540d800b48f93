"""DPoP (RFC 9449) and private_key_jwt (RFC 7523 §2.2) against a real ``localforce serve``:
authlib's httpx OAuth2Client authenticates with ``PrivateKeyJWT`` (the app's certificate key)
and, with hand-built DPoP proofs (authlib has no DPoP client), gets a DPoP-bound token after
the server's ``use_dpop_nonce`` round trip, then calls the data API with it; a proof for another
method or URL, a stale proof, the same token as Bearer, a replayed proof and a replayed client
assertion are refused."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from tests.clients.server import CONSUMER_KEY, LiveServer

from localforce.oauth.dpop import b64url

pytestmark = pytest.mark.clients

DPOP_KEY = ECKey.generate_key("P-256")


def proof(htm: str, htu: str, nonce: str | None = None, token: str | None = None,
          iat: int | None = None) -> str:
    claims = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu,
              "iat": int(time.time()) if iat is None else iat}
    if nonce is not None:
        claims["nonce"] = nonce
    if token is not None:
        claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    return jws.serialize_compact({"typ": "dpop+jwt", "alg": "ES256",
                                  "jwk": DPOP_KEY.as_dict(private=False)},
                                 json.dumps(claims).encode(), DPOP_KEY)


def assertion(key: RSAKey, token_url: str) -> dict[str, str]:
    now = int(time.time())
    signed = private_key_jwt_sign(key, CONSUMER_KEY, token_url, issued_at=now,
                                  expires_at=now + 60)
    return {"client_assertion": signed if isinstance(signed, str) else signed.decode(),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}


def test_private_key_jwt_and_dpop_with_authlib(live_server_http: LiveServer) -> None:
    server = live_server_http
    token_url = f"{server.url}/services/oauth2/token"
    key = RSAKey.import_key(server.jwt_key.read_bytes())
    with server.http() as http:
        # Without the server's nonce: 400 use_dpop_nonce and a DPoP-Nonce to use.
        first = http.post("/services/oauth2/token", headers={"DPoP": proof("POST", token_url)},
                          data={"grant_type": "client_credentials",
                                "client_id": server.consumer_key, **assertion(key, token_url)})
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
        nonce = first.headers["DPoP-Nonce"]
    with OAuth2Client(server.consumer_key, key, token_endpoint_auth_method=PrivateKeyJWT(
            token_url), trust_env=False, timeout=30) as client:
        token = client.fetch_token(token_url, grant_type="client_credentials",
                                   headers={"DPoP": proof("POST", token_url, nonce)})
        assert token["token_type"] == "DPoP"
        access = token["access_token"]

    limits = f"{server.url}/services/data/v62.0/limits"
    with server.http() as http:
        dpop = proof("GET", limits, token=access)
        ok = http.get(limits, headers={"Authorization": f"DPoP {access}", "DPoP": dpop})
        assert ok.status_code == 200, ok.text
        replayed = http.get(limits, headers={"Authorization": f"DPoP {access}", "DPoP": dpop})
        assert replayed.status_code == 401
        assert replayed.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')
        for wrong in (proof("POST", limits, token=access),  # another method
                      proof("GET", f"{server.url}/services/data/v62.0/sobjects",
                            token=access),  # another URL
                      proof("GET", limits, token=access, iat=int(time.time()) - 600)):
            refused = http.get(limits, headers={"Authorization": f"DPoP {access}",
                                                "DPoP": wrong})
            assert refused.status_code == 401, refused.text
            assert refused.headers["WWW-Authenticate"].startswith(
                'DPoP error="invalid_dpop_proof"')
        bearer = http.get(limits, headers={"Authorization": f"Bearer {access}"})
        assert bearer.status_code == 401
        assert bearer.headers["WWW-Authenticate"].startswith('DPoP error="invalid_token"')
        assert bearer.json()[0]["errorCode"] == "INVALID_SESSION_ID"

        # A client assertion is good once.
        form = {"grant_type": "client_credentials", **assertion(key, token_url)}
        assert http.post("/services/oauth2/token", data=form).status_code == 200
        again = http.post("/services/oauth2/token", data=form)
        assert (again.status_code, again.json()) == (
            400, {"error": "invalid_client", "error_description": "invalid client assertion"})
