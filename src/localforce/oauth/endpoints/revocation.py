"""Token revocation: RFC 7009 §2, as Salesforce does it (salesforce-wire.md §1.6).

    POST /services/oauth2/revoke          token=<access or refresh token>
    GET  /services/oauth2/revoke?token=<token>

200 with an empty body on success. Revoking a refresh token revokes every token of its grant
family, the access tokens issued from it included; revoking an access token ends that session.
Unknown or already-revoked tokens are 400 ``invalid_token`` (Salesforce, not RFC 7009's 200).
"""

from __future__ import annotations

from localforce.oauth.errors import InvalidToken, UnsupportedTokenType
from localforce.oauth.ports import REFRESH
from localforce.oauth.services import OAuthServices
from localforce.security.tokens import digest


class Revocation:
    def __init__(self, oauth: OAuthServices) -> None:
        self._oauth = oauth

    def revoke(self, token: str | None) -> None:
        if not token:
            raise UnsupportedTokenType()
        oauth = self._oauth
        key = digest(token)
        record = oauth.tokens.find(key)
        if record is None or record.revoked_at is not None:
            raise InvalidToken()
        now = oauth.now()
        if record.kind == REFRESH:
            oauth.tokens.revoke_family(record.family_id, now)
        else:
            oauth.tokens.revoke(key, now)
        oauth.sessions.forget(key)
