"""A token response, and the check of its ``signature``.

Salesforce signs ``id + issued_at`` with HMAC-SHA256 keyed by the consumer secret and sends it
base64 in ``signature``: a client that knows the secret can tell the response came from the
org that knows it too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field, replace
from typing import Any

from localforce.client.errors import SignatureMismatch


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    id: str | None = None
    issued_at: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    signature: str | None = None
    token_type: str = "Bearer"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_response(cls, body: dict[str, Any], refresh_token: str | None = None) -> Token:
        """A refresh answer carries no refresh token unless it rotated: keep ``refresh_token``,
        the one it was made with."""
        refresh = body.get("refresh_token") or refresh_token
        return cls(access_token=str(body["access_token"]),
                   instance_url=str(body["instance_url"]).rstrip("/"),
                   id=body.get("id"), issued_at=body.get("issued_at"), refresh_token=refresh,
                   scope=body.get("scope"), signature=body.get("signature"),
                   token_type=str(body.get("token_type") or "Bearer"), raw=dict(body))

    @property
    def user_id(self) -> str | None:
        return self.id.rstrip("/").rsplit("/", 1)[-1] if self.id else None

    @property
    def org_id(self) -> str | None:
        return self.id.rstrip("/").rsplit("/", 2)[-2] if self.id else None

    def without_refresh(self) -> Token:
        return replace(self, refresh_token=None)

    def __repr__(self) -> str:  # never print a token
        return f"Token(instance_url={self.instance_url!r}, id={self.id!r}, scope={self.scope!r})"


def expected_signature(identity_url: str, issued_at: str, consumer_secret: str) -> str:
    mac = hmac.new(consumer_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def verify_signature(token: Token, consumer_secret: str) -> None:
    """Raise ``SignatureMismatch`` unless ``token.signature`` is right for the secret. A
    response without ``id``/``issued_at``/``signature`` cannot be checked and is refused."""
    if not (token.id and token.issued_at and token.signature):
        raise SignatureMismatch("the token response has no signature to verify",
                                error_code="invalid_signature")
    expected = expected_signature(token.id, token.issued_at, consumer_secret)
    if not hmac.compare_digest(expected, token.signature):
        raise SignatureMismatch("the token response's signature does not match the secret",
                                error_code="invalid_signature")
