"""Proof Key for Code Exchange, RFC 7636, with Salesforce's dialect.

- RFC 7636 §4.3: the client sends ``code_challenge`` and ``code_challenge_method``. Salesforce
  (and so jsforce and ``sf``) sends no method and means S256 (salesforce-wire.md C5), so an
  absent method is S256 here, not RFC 7636's ``plain``.
- ``plain`` is refused (RFC 9700 §2.1.1: "MUST NOT" when S256 is possible; ASVS 10.4.6).
- RFC 7636 §4.1 caps the verifier at 128 characters; jsforce sends base64url(128 bytes) = 171,
  so the cap here is a generous DoS bound instead.
- RFC 7636 §4.6: ``BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from localforce.oauth.errors import InvalidGrant, InvalidRequest

S256 = "S256"
METHODS = (S256,)

#: RFC 7636 §4.1 unreserved characters; 43 minimum, no 128 maximum (jsforce sends 171).
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,1024}")
#: A S256 challenge is base64url(32 bytes) without padding: exactly 43 characters.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: the S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None) -> tuple[str, str] | None:
    """Validate the authorize request's PKCE parameters.

    Returns ``(challenge, method)`` or None when no challenge was sent. Raises
    ``InvalidRequest`` for ``plain``, an unknown method, or a malformed challenge.
    """
    if not challenge:
        if method:
            raise InvalidRequest("missing required code challenge")
        return None
    method = method or S256  # Salesforce dialect: absent means S256
    if method not in METHODS:
        raise InvalidRequest("unsupported code challenge method")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("invalid code challenge")
    return challenge, method


def verify(verifier: str | None, challenge: str | None, method: str | None) -> None:
    """RFC 7636 §4.6 at the token endpoint; raises ``InvalidGrant`` on any mismatch.

    A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700
    §2.1.1: the server "MUST" refuse it), not something to ignore.
    """
    if challenge is None:
        if verifier:
            raise InvalidGrant("invalid code verifier")
        return
    if not verifier:
        raise InvalidGrant("missing code verifier")
    if (method or S256) != S256 or not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("invalid code verifier")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrant("invalid code verifier")
