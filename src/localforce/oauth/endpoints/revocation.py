"""Token revocation: RFC 7009 §2, as Salesforce does it (salesforce-wire.md §1.6).

    POST /services/oauth2/revoke          token=<access or refresh token>
    GET  /services/oauth2/revoke?token=<token>

200 with an empty body on success. Revoking a refresh token revokes every token of its grant
family, the access tokens issued from it included; revoking an access token ends that session.
Unknown or already-revoked tokens are 400 ``invalid_token`` (Salesforce, not RFC 7009's 200),
and so is another app's token when the caller authenticates as an app.
"""

from __future__ import annotations

from collections.abc import Callable

from localforce.oauth.errors import InvalidToken, UnsupportedTokenType
from localforce.oauth.flows.needs import Callers, Clock, TokenRevoker
from localforce.oauth.messages import TokenRequest
from localforce.oauth.ports import REFRESH
from localforce.security.tokens import digest


class Revocation:
    """``forget(digest)``: drop the session's cached principal (``Sessions.forget``)."""

    def __init__(self, callers: Callers, tokens: TokenRevoker, forget: Callable[[str], None],
                 clock: Clock) -> None:
        self._callers = callers
        self._tokens = tokens
        self._forget = forget
        self._clock = clock

    def revoke(self, request: TokenRequest) -> None:
        """Salesforce's revoke takes the token alone; a caller that does authenticate (client
        secret or Basic) may only revoke its own app's tokens (RFC 7009 §2.1), and another
        app's token is answered like an unknown one."""
        token = request.get("token")
        if not token:
            raise UnsupportedTokenType()
        caller = self._callers.authenticate(request, require_secret=True) \
            if request.client_secret is not None else None
        key = digest(token)
        record = self._tokens.find(key)
        if record is None or record.revoked_at is not None or (
                caller is not None and record.app_id != caller.id):
            raise InvalidToken()
        now = int(self._clock())
        if record.kind == REFRESH:
            self._tokens.revoke_family(record.family_id, now)
        else:
            self._tokens.revoke(key, now)
        self._forget(key)
