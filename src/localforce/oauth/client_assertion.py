"""``private_key_jwt`` client authentication, RFC 7523 §2.2 and §3 (beyond Salesforce).

    client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
    &client_assertion=eyJhbGciOiJSUzI1NiJ9...

The assertion is RS256, signed by the key of the certificate uploaded to the app (the one the
JWT bearer flow uses); ``iss`` and ``sub`` are the consumer key, ``aud`` the token endpoint
or the issuer (or the URL of the endpoint called: introspect, revoke, PAR), ``exp`` within
``MAX_LIFETIME`` seconds (an hour), and a ``jti`` that is used once (remembered in the shared replay
store until the assertion expires). Every failure is ``invalid_client``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from joserfc import jws, jwt
from joserfc.errors import JoseError

from localforce.domain.models import ConnectedApp
from localforce.oauth.errors import InvalidClient
from localforce.oauth.flows.jwt_bearer import certificate_key, expiry_seconds
from localforce.security.tokens import digest

#: How far ahead ``exp`` may be (authlib's clients sign for an hour), and the clock skew
#: tolerated. The jti is remembered until ``exp``, so this also bounds the replay store.
MAX_LIFETIME = 3600
SKEW = 60
INVALID = "invalid client assertion"


class OneTimeValues(Protocol):
    def remember(self, key: str, expires_at: int, now: int) -> bool: ...


def claimed_client_id(assertion: str | None) -> str | None:
    """The unverified ``iss`` (or ``sub``) of an assertion: which app to look up when the
    request has no ``client_id`` (RFC 7523 §3: it is optional); verified afterwards."""
    if not assertion:
        return None
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError):
        return None
    value = claims.get("iss") or claims.get("sub") if isinstance(claims, dict) else None
    return value if isinstance(value, str) else None


class ClientAssertions:
    def __init__(self, jtis: OneTimeValues, base_url: str, clock: Callable[[], float]) -> None:
        self._jtis = jtis
        base = base_url.rstrip("/")
        self._audiences = frozenset({base, f"{base}/services/oauth2/token"})
        self._clock = clock

    def verify(self, app: ConnectedApp, assertion: str | None, url: str | None) -> None:
        """Raise ``InvalidClient`` unless ``assertion`` authenticates ``app``."""
        if not assertion or not app.certificate:
            raise InvalidClient(INVALID)
        claims = self._claims(app, assertion)
        now = int(self._clock())
        aud = claims.get("aud")
        accepted = self._audiences | ({url.rstrip("/")} if url else set())
        values = aud if isinstance(aud, list) else [aud]
        if claims.get("iss") != app.consumer_key or claims.get("sub") != app.consumer_key \
                or not any(isinstance(v, str) and v.rstrip("/") in accepted for v in values):
            raise InvalidClient(INVALID)
        exp = expiry_seconds(claims.get("exp"))
        if exp is None or exp < now - SKEW or exp > now + MAX_LIFETIME + SKEW:
            raise InvalidClient(INVALID)
        jti = claims.get("jti")
        # RFC 7523 §3 item 7 and RFC 7521 §5.2: one use each, remembered until exp.
        if not isinstance(jti, str) or not jti or not self._jtis.remember(
                digest(f"client:{app.id}:{jti}"), max(exp, now) + SKEW, now):
            raise InvalidClient(INVALID)

    @staticmethod
    def _claims(app: ConnectedApp, assertion: str) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, certificate_key(app.certificate or ""),
                               algorithms=["RS256"])
        except (JoseError, ValueError):
            raise InvalidClient(INVALID) from None
        return dict(token.claims)
