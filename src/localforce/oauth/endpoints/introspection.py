"""Token introspection: RFC 7662 §2, Salesforce's response shape (salesforce-wire.md §1.5).

    POST /services/oauth2/introspect
    Authorization: Basic base64(consumer_key:consumer_secret)
    token=00D...!AQ...&token_type_hint=access_token

The caller must authenticate as an app with a secret; it sees only its own tokens. Anything
unknown, expired, revoked or another app's is ``{"active": false}`` (RFC 7662 §2.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localforce.domain.models import ConnectedApp, User
from localforce.oauth.errors import InvalidClient, OAuthError
from localforce.oauth.flows.needs import Callers, Clock, TokenLookup, UserLookup
from localforce.oauth.flows.refresh_token import policy_allows
from localforce.oauth.messages import TokenRequest
from localforce.oauth.ports import ACCESS, TokenRecord
from localforce.security.tokens import digest

INACTIVE: dict[str, Any] = {"active": False}


class Introspection:
    """``identity_url(user)``: the issuer's (the ``sub``)."""

    def __init__(self, callers: Callers, tokens: TokenLookup, users: UserLookup,
                 identity_url: Callable[[User], str], clock: Clock) -> None:
        self._callers = callers
        self._tokens = tokens
        self._users = users
        self._identity_url = identity_url
        self._clock = clock

    def introspect(self, request: TokenRequest) -> dict[str, Any]:
        try:
            app = self._callers.authenticate(request, require_secret=True)
        except OAuthError as error:  # RFC 7662 §2.3: a client that fails to authenticate
            raise InvalidClient(status=401) from error
        token = request.get("token")
        record = self._tokens.find(digest(token)) if token else None
        if record is None or not self._active(app, record):
            return dict(INACTIVE)
        user = self._users.get_user(record.user_id)
        if user is None or not user.active:
            return dict(INACTIVE)
        body: dict[str, Any] = {
            "active": True, "scope": " ".join(record.scopes), "client_id": app.consumer_key,
            "username": user.username, "sub": self._identity_url(user),
            "token_type": "access_token" if record.kind == ACCESS else "refresh_token",
        }
        exp = record.expiry()
        if exp is not None:
            body["exp"] = exp
        body.update(iat=record.issued_at, nbf=record.issued_at)
        if record.jkt is not None:  # RFC 9449 §6.2: a DPoP-bound token
            body.update(token_type="DPoP", cnf={"jkt": record.jkt})
        if record.act is not None:  # RFC 8693 §4.1: obtained by token exchange, by this client
            body["act"] = {"client_id": record.act}
        return body

    def _active(self, app: ConnectedApp, record: TokenRecord) -> bool:
        now = int(self._clock())
        if record.app_id != app.id or not record.alive(now):
            return False
        return record.kind == ACCESS or policy_allows(app.refresh_token_policy, record, now)
