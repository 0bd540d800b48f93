"""``Authorization: Bearer|OAuth <token>`` -> Principal, for every data-API route.

Salesforce accepts both schemes on the REST API (salesforce-wire.md §6). Tokens in the URL
query string are not accepted here (they leak into logs and Referer headers; RFC 6750 §5.3);
the identity URL is the one place that takes ``oauth_token`` (web/routes/identity.py).
Everything wrong answers 401 ``[{"message":"Session expired or invalid",
"errorCode":"INVALID_SESSION_ID"}]``, the body simple-salesforce and jsforce re-login on.
"""

from __future__ import annotations

from starlette.requests import Request

from localforce.bootstrap import Services
from localforce.data.errors import InvalidSessionId
from localforce.domain.principal import Principal
from localforce.oauth.sessions import InvalidSession

_SCHEMES = ("bearer", "oauth")


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` or ``Authorization: OAuth`` header."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() in _SCHEMES and token else None


def authenticate(services: Services, request: Request) -> Principal:
    """The caller of a data-API request; raises ``InvalidSessionId`` (401).

    Synchronous (one indexed lookup, cached for a second): call it from a sync endpoint or a
    threadpool.
    """
    token = bearer_token(request)
    if token is None:
        raise InvalidSessionId()
    try:
        return services.oauth.sessions.resolve(token)
    except InvalidSession:
        raise InvalidSessionId() from None
