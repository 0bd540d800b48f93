"""Pushed authorization requests, RFC 9126 (issue #17; beyond Salesforce, per app).

``POST /services/oauth2/par`` with the client's authentication (as at the token endpoint) and
an authorization request's parameters in the body. They are validated as the authorize
endpoint would (``Authorizer.check``), stored server-side for 60 seconds by the digest of a
random id, and answered ``201 {"request_uri": "urn:ietf:params:oauth:request_uri:…",
"expires_in": 60}`` (§2.2). ``/services/oauth2/authorize?client_id=…&request_uri=…`` then
redeems them once, for that client only; its other parameters are ignored (§4).

An app with "require PAR" is refused at the authorize endpoint without a ``request_uri``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from localforce.domain.models import ConnectedApp
from localforce.oauth.artifacts import PushedRequest, PushedRequests
from localforce.oauth.errors import (
    InvalidClient,
    InvalidClientId,
    InvalidRequest,
    OAuthError,
    RedirectUriMismatch,
    RedirectUriMissing,
)
from localforce.oauth.flows.needs import Clients
from localforce.oauth.messages import TokenRequest
from localforce.security.tokens import digest, random_token

PATH = "/services/oauth2/par"
URN = "urn:ietf:params:oauth:request_uri:"
#: RFC 9126 §2.2's example; short, as the request only has to reach the authorize endpoint.
LIFETIME = 60
#: Client authentication fields, never part of the stored request.
CREDENTIALS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


class InvalidRequestUri(OAuthError):
    """RFC 9101 §6.2: the ``request_uri`` is unknown, expired, used, or another client's."""

    error = "invalid_request_uri"
    description = "request_uri is invalid, expired or already used"


@dataclass(frozen=True)
class PushedResponse:
    request_uri: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        return {"request_uri": self.request_uri, "expires_in": self.expires_in}


class Checker(Protocol):
    """``Authorizer.check``: the authorize endpoint's validation, errors raised as is."""

    def check(self, params: Mapping[str, str]) -> Any: ...


class PushedAuthorizationEndpoint:
    def __init__(self, clients: Clients, authorizer: Checker, store: PushedRequests,
                 clock: Callable[[], float]) -> None:
        self._clients = clients
        self._authorizer = authorizer
        self._store = store
        self._clock = clock

    def push(self, request: TokenRequest, params: Mapping[str, str]) -> PushedResponse:
        """§2.1: authenticate the client, validate, store. ``OAuthError`` carries the answer."""
        try:  # confidential clients authenticate; a public one identifies itself (§2)
            app, _ = self._clients.client(request, require_secret=False)
        except (InvalidClientId, InvalidClient) as error:
            raise InvalidClient(error.description, status=401) from None
        # A confidential client proves itself: its secret, or a private_key_jwt assertion
        # (checked by ``client`` whenever one is sent).
        if app.has_secret and request.client_secret is None \
                and "client_assertion_type" not in request.params:
            raise InvalidClient(status=401)
        if "request_uri" in params:
            raise InvalidRequest("request_uri is not allowed in a pushed authorization request")
        kept = {k: v for k, v in params.items() if k not in CREDENTIALS}
        kept["client_id"] = app.consumer_key
        try:
            self._authorizer.check(kept)
        except (RedirectUriMismatch, RedirectUriMissing) as error:
            raise InvalidRequest(error.description) from None
        return PushedResponse(self.store(app, kept), LIFETIME)

    def store(self, app: ConnectedApp, params: Mapping[str, str]) -> str:
        """Keep validated parameters; their ``request_uri``."""
        ref = random_token(32)
        self._store.save_pushed(PushedRequest(digest(ref), app.id, tuple(params.items()),
                                              int(self._clock()) + LIFETIME))
        return URN + ref

    def redeem(self, params: Mapping[str, str]) -> dict[str, str]:
        """§4: the stored parameters for ``client_id`` + ``request_uri``, once.
        ``OAuthError`` (shown as a page: no redirect URI is trusted yet) otherwise."""
        app = self._clients.find(params.get("client_id"))
        uri = params.get("request_uri", "")
        found = None
        if uri.startswith(URN):
            found = self._store.consume_pushed(digest(uri[len(URN):]), app.id,
                                               int(self._clock()))
        if found is None:
            raise InvalidRequestUri()
        return found


def required_error() -> OAuthError:
    """The authorize endpoint's answer to a "require PAR" app's request without one."""
    return InvalidRequest("pushed authorization request required")
