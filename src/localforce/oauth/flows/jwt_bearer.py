"""JWT bearer flow: RFC 7523 §2.1 and §3, Salesforce's variant (salesforce-wire.md §2.3).

    POST /services/oauth2/token
    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=eyJhbGciOiJSUzI1NiJ9...

The assertion is RS256, signed by the key of the certificate uploaded to the app; ``iss`` is
the consumer key, ``sub`` the username, ``aud`` one of the accepted audiences, ``exp`` in
seconds, milliseconds (sfdx) or a numeric string (simple-salesforce), at most 3 minutes
ahead; ``nbf``/``iat`` not in the future. A ``jti`` may be used once. The user must be
pre-authorized (admin-approved app) or have approved the app before. No refresh token; the
response has no ``issued_at``/``signature``, as Salesforce's.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any, ClassVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import RSAKey

from localforce.domain.models import ConnectedApp, PermittedUsers, User
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext
from localforce.oauth.errors import InvalidGrant
from localforce.oauth.flows.needs import (
    Clients,
    Clock,
    Consents,
    LoginPolicy,
    OneTimeValues,
    OrgLookup,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.grants import login_context
from localforce.oauth.issuing import IssuePolicy, bound
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.security.tokens import digest

GRANT_TYPES = ("urn:ietf:params:oauth:grant-type:jwt-bearer",)
#: The JWT bearer response has neither ``issued_at`` nor ``signature``.
ISSUE = IssuePolicy("jwt_bearer", signed=False)

INVALID_ASSERTION = "invalid assertion"
BAD_AUDIENCE = "audience is invalid"
EXPIRED = "expired authorization code"  # Salesforce's text for an expired assertion
NOT_APPROVED = "user hasn't approved this consumer"

#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat`` (seconds).
SKEW = 60
#: How far ahead ``exp`` may be (Salesforce's 3 minutes; simple-salesforce sends now + 180 s,
#: the sf CLI now + 300 ms).
MAX_LIFETIME = 180
#: The longest assertion read (joserfc's limits: a 512-byte header, 128,000 of claims, a
#: 1,024-byte signature, each base64url-encoded).
MAX_ASSERTION = (512 + 128_000 + 1_024) * 4 // 3 + 2


class Malformed(ValueError):
    """Not an RS256 JWS in compact serialization that this flow reads."""


def compact_rs256(assertion: str) -> tuple[bytes, dict[str, Any], bytes]:
    """RFC 7515 §7.1: the signing input, claims and signature of an assertion whose header
    says ``"alg": "RS256"`` and asks for no extension (``crit``, RFC 7797's ``b64``: none is
    understood here, §4.1.11). Only the algorithm is read from the header: "none" and HS256
    keyed with the (public) certificate are refused here. ``Malformed`` otherwise.

    Read here, and the signature checked by ``cryptography`` itself, rather than through
    joserfc's registries and key objects: they cost nearly as much CPU as the RSA check
    (bench/README.md, fourteenth pass). Its rules are kept: the limits, canonical base64url,
    no ``crit`` it does not know (it knows none that applies here)."""
    if len(assertion) > MAX_ASSERTION or not assertion.isascii():
        raise Malformed
    segments = assertion.encode("ascii").split(b".")
    if len(segments) != 3:
        raise Malformed
    header, claims = _json_segment(segments[0]), _json_segment(segments[1])
    if header.get("alg") != "RS256" or "crit" in header or "b64" in header:
        raise Malformed
    return segments[0] + b"." + segments[1], claims, _base64url(segments[2])


def _json_segment(segment: bytes) -> dict[str, Any]:
    try:
        value = json.loads(_base64url(segment))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError too
        raise Malformed from None
    if not isinstance(value, dict):
        raise Malformed
    return value


#: The last character of a segment of 2 or 3 bytes left over, by the padding it lacks: one
#: whose unused bits are not zero encodes the same bytes as another text (joserfc's rule).
_CANONICAL_ENDINGS = {1: b"AEIMQUYcgkosw048", 2: b"AQgw"}


def _base64url(segment: bytes) -> bytes:
    """Base64url without padding (RFC 7515 §2), canonical; anything else is refused."""
    pad = -len(segment) % 4
    if (b"+" in segment or b"/" in segment or b"=" in segment or pad == 3
            or (pad and segment[-1] not in _CANONICAL_ENDINGS[pad])):
        raise Malformed
    try:
        return base64.b64decode(segment + b"=" * pad, altchars=b"-_", validate=True)
    except binascii.Error:
        raise Malformed from None


@functools.lru_cache(maxsize=256)
def certificate_rsa_key(pem: str) -> RSAPublicKey | None:
    """The RSA public key of an app's X.509 certificate (None: another kind of key)."""
    public = x509.load_pem_x509_certificate(pem.encode()).public_key()
    return public if isinstance(public, RSAPublicKey) else None


@functools.lru_cache(maxsize=256)
def certificate_key(pem: str) -> RSAKey:
    """The RSA public key of an app's X.509 certificate."""
    public = x509.load_pem_x509_certificate(pem.encode()).public_key()
    return RSAKey.import_key(public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


def expiry_seconds(value: Any) -> int | None:
    """``exp`` as epoch seconds: numbers or numeric strings, seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    # 10^11 s is the year 5138; anything above is milliseconds (sfdx: Date.now() + 300).
    return int(number / 1000 if number > 1e11 else number)


class JwtBearerFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, orgs: OrgLookup, users: UserLookup,
                 consents: Consents, jtis: OneTimeValues, logins: LoginPolicy,
                 issuer: TokenWriter, clock: Clock, audiences: frozenset[str]) -> None:
        """``audiences``: the accepted ``aud`` values besides the app's org's My Domain URL
        (normalised without a trailing slash)."""
        self._clients = clients
        self._orgs = orgs
        self._users = users
        self._consents = consents
        self._jtis = jtis
        self._logins = logins
        self._issuer = issuer
        self._clock = clock
        self._audiences = audiences

    def exchange(self, request: TokenRequest) -> TokenResponse:
        app, claims = self._verified(request.get("assertion"))
        now = int(self._clock())
        if not self._audience_ok(app, claims.get("aud")):
            raise InvalidGrant(BAD_AUDIENCE)
        exp = expiry_seconds(claims.get("exp"))
        if exp is None:
            raise InvalidGrant(INVALID_ASSERTION)
        if exp < now - SKEW:
            raise InvalidGrant(EXPIRED)
        # Salesforce: "exp … within 3 minutes". The cap also bounds how long an assertion
        # without a jti can be replayed; nbf and iat in the future are refused likewise.
        if exp > now + MAX_LIFETIME + SKEW or any(
                (t := expiry_seconds(claims[name])) is None or t > now + SKEW
                for name in ("nbf", "iat") if name in claims):
            raise InvalidGrant(INVALID_ASSERTION)
        jti = claims.get("jti")
        # RFC 7523 §3 item 7: a jti may be used once; remembered until the assertion expires.
        if jti is not None and not self._jtis.remember(
                digest(f"{app.id}:{jti}"), max(exp, now) + SKEW, now):
            raise InvalidGrant(INVALID_ASSERTION)
        context = login_context(request, app)
        user = self._user(app, claims.get("sub") or claims.get("prn"), context)
        self._logins.admit(user, context)
        return self._issuer.issue(app, user, self._scopes(app, user), bound(ISSUE, request.jkt))

    def _verified(self, assertion: str | None) -> tuple[ConnectedApp, dict[str, Any]]:
        """Parse, find the app by ``iss``, verify RS256 against its certificate."""
        try:
            signed, unverified, signature = compact_rs256(assertion or "")
        except Malformed:
            raise InvalidGrant(INVALID_ASSERTION) from None
        if not isinstance(unverified.get("iss"), str):
            raise InvalidGrant(INVALID_ASSERTION)
        app = self._clients.find(unverified["iss"])
        try:
            key = certificate_rsa_key(app.certificate) if app.certificate else None
        except ValueError:  # a certificate that does not load
            key = None
        if key is None:
            raise InvalidGrant(INVALID_ASSERTION)
        try:  # cryptography's RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3)
            key.verify(signature, signed, PKCS1v15(), SHA256())
        except InvalidSignature:
            raise InvalidGrant(INVALID_ASSERTION) from None
        return app, unverified

    def _audience_ok(self, app: ConnectedApp, aud: Any) -> bool:
        accepted = set(self._audiences)
        org = self._orgs.get_org(app.org_id)
        if org is not None and org.my_domain:
            accepted.add(f"https://{org.my_domain}.my.salesforce.com")
        values = aud if isinstance(aud, list) else [aud]
        return any(isinstance(v, str) and v.rstrip("/") in accepted for v in values)

    def _user(self, app: ConnectedApp, username: Any, context: LoginContext) -> User:
        # From the read cache, like the client-credentials user: no password, no lockout count
        # to be exact about, and a deactivation is seen within a second.
        user = (self._users.find_user(username, fresh=False)
                if isinstance(username, str) else None)
        if user is None or user.org_id != app.org_id:
            self._logins.record(context, ports.NOT_APPROVED, None,
                                username if isinstance(username, str) else None)
            raise InvalidGrant(NOT_APPROVED)
        admin_approved = app.permitted_users == PermittedUsers.ADMIN_APPROVED
        if not admin_approved and not app.pre_authorizes(user) and \
                self._consents.find_consent(user.id, app.id) is None:
            self._logins.record(context, ports.NOT_APPROVED, user)
            raise InvalidGrant(NOT_APPROVED)
        return user

    def _scopes(self, app: ConnectedApp, user: User) -> tuple[str, ...]:
        """Pre-authorized: the app's scopes; else what the user approved, within them."""
        if app.pre_authorizes(user):
            return app.scopes
        consent = self._consents.find_consent(user.id, app.id)
        if consent is None:
            return app.scopes
        return tuple(s for s in consent if s in app.scopes)
