"""``Authorization: Bearer|OAuth <token>`` -> Principal, for every data-API route.

Salesforce accepts both schemes on the REST API (salesforce-wire.md §6). Tokens in the URL
query string are not accepted here (they leak into logs and Referer headers; RFC 6750 §5.3);
the identity URL is the one place that takes ``oauth_token`` (web/routes/identity.py).
Everything wrong answers 401 ``[{"message":"Session expired or invalid",
"errorCode":"INVALID_SESSION_ID"}]``, the body simple-salesforce and jsforce re-login on.

A DPoP-bound token (RFC 9449 §7) comes as ``Authorization: DPoP <token>`` with a ``DPoP``
proof for this method and URL and the token's ``ath``; refused with the same body and a
``WWW-Authenticate: DPoP`` challenge naming the error. A bound token as ``Bearer`` is refused
likewise (``Sessions.resolve`` checks the binding); a bearer token pays one comparison.
The identity URL and userinfo take a DPoP-bound token the same way (``identity_credentials``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from localforce.bootstrap import Services
from localforce.data.errors import DpopRefused, InvalidSessionId
from localforce.domain.principal import Principal
from localforce.oauth.dpop import ALGORITHMS
from localforce.oauth.errors import InvalidDpopProof, UseDpopNonce
from localforce.oauth.sessions import InvalidSession, WrongBinding

_SCHEMES = ("bearer", "oauth")


def header(scope: Scope, name: bytes) -> str | None:
    """A request header's first value (``name`` in lower case), as ``request.headers.get``
    answers it, read from the ASGI scope without building a ``Headers``."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _authorization(request: Request) -> tuple[str, str]:
    """The ``Authorization`` header's scheme (lower case) and token ("" when absent)."""
    scheme, _, token = (header(request.scope, b"authorization") or "").strip().partition(" ")
    return scheme.lower(), token.strip()


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` or ``Authorization: OAuth`` header."""
    scheme, token = _authorization(request)
    return token if scheme in _SCHEMES and token else None


def authenticate(services: Services, request: Request) -> Principal:
    """The caller of a data-API request; raises ``InvalidSessionId`` (401).

    Synchronous (one indexed lookup, cached for a second): call it from a sync endpoint or a
    threadpool.
    """
    scheme, token = _authorization(request)
    if not token or scheme not in _SCHEMES:
        if token and scheme == "dpop":
            return _dpop(services, request, token)
        raise InvalidSessionId()
    try:
        return services.oauth.sessions.resolve(token)
    except WrongBinding:
        raise refused("invalid_token", "DPoP-bound token requires the DPoP scheme") from None
    except InvalidSession:
        raise InvalidSessionId() from None


_ALGS = " ".join(ALGORITHMS)


def refused(error: str, description: str, nonce: str | None = None) -> DpopRefused:
    return DpopRefused(error, description, nonce, _ALGS)


def _dpop(services: Services, request: Request, token: str) -> Principal:
    """RFC 9449 §7.1: the proof first (method, URL, ``ath``, a nonce if given), then the
    token, which must be bound to the proof's key."""
    jkt = proof_key(services, request, token)
    try:
        return services.oauth.sessions.resolve(token, jkt=jkt)
    except InvalidSession:
        raise refused("invalid_token", "Session expired or invalid") from None


def proof_key(services: Services, request: Request, token: str) -> str:
    """The key thumbprint of the request's DPoP proof for ``token``, checked against this
    method and URL (the query left out) and the token's hash; raises ``DpopRefused``."""
    proofs = request.headers.getlist("dpop")
    try:
        return services.oauth.proofs.verify(
            proofs[0] if len(proofs) == 1 else None, request.method,
            str(request.url.replace(query="", fragment="")), access_token=token)
    except UseDpopNonce as error:
        raise refused(error.error, error.description, error.nonce) from None
    except InvalidDpopProof as error:
        raise refused(error.error, error.description) from None


def identity_credentials(services: Services, request: Request, *params: str | None
                         ) -> tuple[str | None, str | None]:
    """The identity URL's and userinfo's token and, for ``Authorization: DPoP``, the key of
    its verified proof (raises ``DpopRefused``): else a ``Bearer``/``OAuth`` token or the
    first of ``params`` given (``oauth_token``...), with no key."""
    scheme, token = _authorization(request)
    if token and scheme == "dpop":
        return token, proof_key(services, request, token)
    if token and scheme in _SCHEMES:
        return token, None
    return next((p for p in params if p), None), None
