"""DPoP proofs, RFC 9449: checked at the token endpoint and at the data API.

    DPoP: eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Li4ufX0.eyJqdGkiOi...

A proof is a JWS (``typ`` ``dpop+jwt``, an asymmetric ``alg``) signed by the key in its own
``jwk`` header (public parts only), with ``jti``, ``htm`` (the request's method), ``htu``
(its URL without query and fragment), ``iat`` (within ``WINDOW`` seconds of now) and, at a
resource, ``ath`` (base64url SHA-256 of the access token). ``verify`` checks §4.3's list in
order and answers the key's RFC 7638 thumbprint (``jkt``), the value tokens are bound to.

A ``jti`` is used once per key: remembered in the shared replay store (``OneTimeValues``, the
JWT bearer flow's table, so every replica sees it) until the proof's ``iat`` leaves the
window. Server nonces (§8, §9) are stateless: HMAC-SHA256 under a key derived from the master
key over a ``NONCE_SECONDS`` time step, so any replica makes and checks them; the current
and the previous step's are accepted. The token endpoint requires one; a resource takes a
proof without one but refuses a stale one (``use_dpop_nonce`` with a fresh ``DPoP-Nonce``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from localforce.oauth.errors import InvalidDpopProof, UseDpopNonce
from localforce.security.tokens import digest

#: Asymmetric algorithms a proof may use (RFC 9449 §4.3 item 5: never ``none`` nor a MAC).
ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512",
              "EdDSA")
#: Seconds an ``iat`` may lie before or after now.
WINDOW = 60
#: Seconds one server nonce step lasts (the previous step's nonce is still accepted).
NONCE_SECONDS = 300
_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "k", "oth"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ProofRegistry(JWSRegistry):
    #: The header carries the key: a 4096-bit RSA JWK is ~ 900 bytes of base64url.
    max_header_length = 2048


class OneTimeValues(Protocol):
    def remember(self, key: str, expires_at: int, now: int) -> bool: ...


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode()).digest())


def normal_url(url: str) -> str | None:
    """The URL without query and fragment, scheme and host lowercased, default port dropped
    (RFC 9449 §4.3 item 9, RFC 3986 §6.2.2-6.2.3); None if it is not an absolute URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


class DpopProofs:
    def __init__(self, jtis: OneTimeValues, nonce_key: bytes, base_url: str,
                 clock: Callable[[], float]) -> None:
        """``base_url``: the public URL; a proof's ``htu`` may name it or the URL the request
        reached (a proxy in front may rewrite the host)."""
        self._jtis = jtis
        self._nonce_key = nonce_key
        self._base = normal_url(base_url.rstrip("/") + "/") or ""
        self._clock = clock

    def nonce(self) -> str:
        return self._nonce_at(int(self._clock()) // NONCE_SECONDS)

    def _nonce_at(self, step: int) -> str:
        mac = hmac.new(self._nonce_key, step.to_bytes(8, "big"), hashlib.sha256).digest()
        return b64url(step.to_bytes(8, "big") + mac[:16])

    def _nonce_ok(self, value: Any, now: int) -> bool:
        step = now // NONCE_SECONDS
        return isinstance(value, str) and any(
            hmac.compare_digest(value, self._nonce_at(s)) for s in (step, step - 1))

    def verify(self, proof: str | None, method: str, url: str, *,
               access_token: str | None = None, require_nonce: bool = False) -> str:
        """The thumbprint of the key that signed ``proof``; raises ``InvalidDpopProof``, or
        ``UseDpopNonce`` for a missing (when required) or stale nonce."""
        if not proof:
            raise InvalidDpopProof("DPoP proof required")
        header, claims = self._signed(proof)
        now = int(self._clock())
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not jti or not isinstance(claims.get("htm"), str) \
                or not isinstance(claims.get("htu"), str) \
                or not isinstance(iat, int) or isinstance(iat, bool):
            raise InvalidDpopProof("DPoP proof lacks jti, htm, htu or iat")
        if claims["htm"] != method:
            raise InvalidDpopProof("DPoP proof htm does not match the request method")
        if not self._url_ok(claims["htu"], url):
            raise InvalidDpopProof("DPoP proof htu does not match the request URL")
        if "nonce" in claims or require_nonce:
            if not self._nonce_ok(claims.get("nonce"), now):
                raise UseDpopNonce(self.nonce())
        if abs(now - iat) > WINDOW:
            raise InvalidDpopProof("DPoP proof iat is not recent")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise InvalidDpopProof("DPoP proof ath does not match the access token")
        jkt = str(header["jkt"])
        if not self._jtis.remember(digest(f"dpop:{jkt}:{jti}"), iat + WINDOW + 1, now):
            raise InvalidDpopProof("DPoP proof jti was used before")
        return jkt

    @staticmethod
    def _signed(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Header (with the key's thumbprint as ``jkt``) and claims of a proof whose
        signature verifies with its own public ``jwk``."""
        try:
            header = jws.extract_compact(proof.encode(), registry=_ProofRegistry()).headers()
        except (JoseError, ValueError):
            raise InvalidDpopProof("DPoP proof is not a JWS") from None
        jwk, alg = header.get("jwk"), header.get("alg")
        if header.get("typ") != "dpop+jwt":
            raise InvalidDpopProof("DPoP proof typ is not dpop+jwt")
        if alg not in ALGORITHMS:
            raise InvalidDpopProof("DPoP proof alg is not an accepted asymmetric algorithm")
        if not isinstance(jwk, dict) or _PRIVATE & jwk.keys() or jwk.get("kty") == "oct":
            raise InvalidDpopProof("DPoP proof jwk is not a public key")
        try:
            key = JWKRegistry.import_key(jwk)
            claims = json.loads(jws.deserialize_compact(
                proof, key, registry=_ProofRegistry(algorithms=[alg])).payload)
        except (JoseError, ValueError, TypeError):
            raise InvalidDpopProof("DPoP proof signature is invalid") from None
        if not isinstance(claims, dict):
            raise InvalidDpopProof("DPoP proof claims are not an object")
        return {**header, "jkt": key.thumbprint()}, claims

    def _url_ok(self, htu: str, url: str) -> bool:
        claimed = normal_url(htu)
        if claimed is None:
            return False
        reached = normal_url(url)
        if claimed == reached:
            return True
        # The same path under the public URL (the server behind a proxy).
        path = urlsplit(reached or "").path.lstrip("/")
        return bool(self._base) and claimed == self._base + path
