"""The token endpoint's dispatcher: a registry of flows, one module per flow.

The server never branches on ``grant_type``: each flow declares the wire names it answers to,
``GRANT_TYPES`` (RFC 6749 §4, with Salesforce aliases next to the RFC names) and optionally
``RESPONSE_TYPES`` for the non-grant requests Salesforce also takes at /token (the device-code
request ``response_type=device_code``, salesforce-wire.md §2.4). Which flows exist is a
bootstrap decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import ClassVar, Protocol

from localforce.oauth.errors import InvalidDpopProof, UnsupportedGrantType
from localforce.oauth.messages import Reply, TokenRequest


class Flow(Protocol):
    #: Wire names this flow answers to, e.g. ``("refresh_token",)``.
    GRANT_TYPES: ClassVar[tuple[str, ...]]
    #: ``response_type`` values it answers at /token without a ``grant_type`` (mostly none).
    RESPONSE_TYPES: ClassVar[tuple[str, ...]]

    def exchange(self, request: TokenRequest) -> Reply:
        """Check the request and mint tokens; raise an ``OAuthError`` to refuse."""
        ...


class Proofs(Protocol):
    """DPoP proof checking (``dpop.DpopProofs``)."""

    def verify(self, proof: str | None, method: str, url: str, *,
               access_token: str | None = None, require_nonce: bool = False) -> str: ...


class AuthorizationServer:
    def __init__(self, flows: Iterable[Flow], proofs: Proofs | None = None) -> None:
        """``proofs``: DPoP (RFC 9449); a request with a ``DPoP`` header reaches its flow
        with the proof's key (``TokenRequest.jkt``), which the tokens are bound to."""
        self._proofs = proofs
        self._grants: dict[str, Flow] = {}
        self._responses: dict[str, Flow] = {}
        for flow in flows:
            self.register(flow)

    def register(self, flow: Flow) -> None:
        for name in flow.GRANT_TYPES:
            if name in self._grants:
                raise ValueError(f"grant type {name!r} registered twice")
            self._grants[name] = flow
        for name in flow.RESPONSE_TYPES:
            if name in self._responses:
                raise ValueError(f"response type {name!r} registered twice")
            self._responses[name] = flow

    @property
    def grant_types(self) -> tuple[str, ...]:
        return tuple(self._grants)

    def token(self, request: TokenRequest) -> Reply:
        """POST /services/oauth2/token. An unknown or missing ``grant_type`` is Salesforce's
        ``unsupported_grant_type`` (also what a body in an unread Content-Type yields)."""
        if request.dpop is not None:  # RFC 9449 §5: checked before the grant, nonce required
            if self._proofs is None:
                raise InvalidDpopProof("DPoP is not supported")
            request = replace(request, jkt=self._proofs.verify(
                request.dpop, "POST", request.url or "", require_nonce=True))
        grant_type = request.grant_type
        if grant_type is None and request.get("response_type") in self._responses:
            return self._responses[request.params["response_type"]].exchange(request)
        flow = self._grants.get(grant_type or "")
        if flow is None:
            raise UnsupportedGrantType()
        return flow.exchange(request)
