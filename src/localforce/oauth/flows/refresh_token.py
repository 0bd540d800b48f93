"""Refresh token flow: RFC 6749 §6, Salesforce's variant (salesforce-wire.md §2.5).

    POST /services/oauth2/token
    grant_type=refresh_token&refresh_token=5Aep861...&client_id=3MVG9...&client_secret=...

The secret is needed when the app says "Require Secret for Refresh Token Flow". A refresh
token works only for the app it was issued to, under the app's refresh-token policy and the
server's absolute maximum lifetime. With rotation, each use returns a new refresh token and
retires the old one; presenting a retired one again is treated as theft and revokes the whole
family (RFC 9700 §4.14.2). Public clients always rotate (``ConnectedApp.rotates_refresh_tokens``).
Without rotation no new refresh token is returned.
"""

from __future__ import annotations

from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.domain.models import IpRelaxation, RefreshTokenPolicy
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.errors import InvalidGrant, InvalidScope
from localforce.oauth.grants import login_context, refusal
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.ports import REFRESH, TokenRecord
from localforce.oauth.services import OAuthServices
from localforce.security.tokens import digest

GRANT_TYPES = ("refresh_token",)
EXPIRED = "expired access/refresh token"


def policy_allows(policy: RefreshTokenPolicy, record: TokenRecord, now: int) -> bool:
    """The app's Refresh Token Policy (salesforce-wire.md §7), checked at each use so that a
    changed policy applies to tokens already issued."""
    if policy.kind == "immediately_expire":
        return False
    if policy.kind == "expire_after" and policy.seconds is not None:
        return now < record.issued_at + policy.seconds
    if policy.kind == "expire_if_unused" and policy.seconds is not None:
        return now - record.last_used_at < policy.seconds
    return True


class RefreshTokenFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, oauth: OAuthServices) -> None:
        self._oauth = oauth

    def exchange(self, request: TokenRequest) -> TokenResponse:
        oauth = self._oauth
        presented = request.get("refresh_token")
        record = oauth.tokens.find(digest(presented)) if presented else None
        # The built-in PlatformCLI key names one app per org: take the token's org's.
        org_id = record.org_id if record is not None else None
        app = oauth.clients.find(request.client_id, org_id)
        oauth.clients.authenticate(request, require_secret=app.require_secret_refresh,
                                   org_id=org_id)
        # Bound to its app: another app's refresh token is as good as none.
        if record is None or record.kind != REFRESH or record.app_id != app.id:
            raise InvalidGrant(EXPIRED)
        now = oauth.now()
        if record.rotated_at is not None:
            oauth.tokens.revoke_family(record.family_id, now)
            raise InvalidGrant(EXPIRED)
        if not record.alive(now) or not policy_allows(app.refresh_token_policy, record, now):
            raise InvalidGrant(EXPIRED)
        user = oauth.directory.store.get_user(record.user_id)
        if user is None:
            raise InvalidGrant(EXPIRED)
        relax = app.ip_relaxation in (IpRelaxation.ENFORCE_RELAX_REFRESH, IpRelaxation.RELAX)
        context = login_context(request, app, relax_ip=relax)
        try:
            oauth.logins.admit(user, context)  # a refusal is recorded in LoginHistory
        except LoginFailed as failure:
            raise refusal(failure) from None
        scopes = self._narrowed(request, record)
        if app.rotates_refresh_tokens and not oauth.tokens.mark_rotated(record.digest, now):
            # Lost a race with another use of the same token: a replay.
            oauth.tokens.revoke_family(record.family_id, now)
            raise InvalidGrant(EXPIRED)
        oauth.logins.refreshed(user, context)
        if not app.rotates_refresh_tokens:
            oauth.tokens.touch(record.digest, now)
            return oauth.issuer.issue(app, user, scopes, "refresh_token",
                                      family_id=record.family_id, parent_digest=record.digest)
        return oauth.issuer.issue(app, user, scopes, "refresh_token",
                                  family_id=record.family_id, with_refresh=True,
                                  refresh_scopes=record.scopes,
                                  refresh_expires_at=record.expires_at)

    @staticmethod
    def _narrowed(request: TokenRequest, record: TokenRecord) -> tuple[str, ...]:
        """RFC 6749 §6: a requested ``scope`` must not exceed the original grant."""
        asked = scope_words.parse(request.get("scope"))
        if not asked:
            return record.scopes
        if not set(asked) <= set(record.scopes):
            raise InvalidScope()
        return asked
