"""Token introspection: RFC 7662 §2, Salesforce's response shape (salesforce-wire.md §1.5).

    POST /services/oauth2/introspect
    Authorization: Basic base64(consumer_key:consumer_secret)
    token=00D...!AQ...&token_type_hint=access_token

The caller must authenticate as an app with a secret; it sees only its own tokens. Anything
unknown, expired, revoked or another app's is ``{"active": false}`` (RFC 7662 §2.2).
"""

from __future__ import annotations

from typing import Any

from localforce.domain.models import ConnectedApp
from localforce.oauth.errors import InvalidClient, OAuthError
from localforce.oauth.flows.refresh_token import policy_allows
from localforce.oauth.messages import TokenRequest
from localforce.oauth.ports import ACCESS, TokenRecord
from localforce.oauth.services import OAuthServices
from localforce.security.tokens import digest

INACTIVE: dict[str, Any] = {"active": False}


class Introspection:
    def __init__(self, oauth: OAuthServices) -> None:
        self._oauth = oauth

    def introspect(self, request: TokenRequest) -> dict[str, Any]:
        oauth = self._oauth
        try:
            app = oauth.clients.authenticate(request, require_secret=True)
        except OAuthError as error:  # RFC 7662 §2.3: a client that fails to authenticate
            raise InvalidClient(status=401) from error
        token = request.get("token")
        record = oauth.tokens.find(digest(token)) if token else None
        if record is None or not self._active(app, record):
            return dict(INACTIVE)
        user = oauth.directory.store.get_user(record.user_id)
        if user is None or not user.active:
            return dict(INACTIVE)
        body: dict[str, Any] = {
            "active": True, "scope": " ".join(record.scopes), "client_id": app.consumer_key,
            "username": user.username, "sub": oauth.issuer.identity_url(user),
            "token_type": "access_token" if record.kind == ACCESS else "refresh_token",
        }
        exp = record.expiry()
        if exp is not None:
            body["exp"] = exp
        body.update(iat=record.issued_at, nbf=record.issued_at)
        return body

    def _active(self, app: ConnectedApp, record: TokenRecord) -> bool:
        now = self._oauth.now()
        if record.app_id != app.id or not record.alive(now):
            return False
        return record.kind == ACCESS or policy_allows(app.refresh_token_policy, record, now)
