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
from localforce.oauth.errors import InvalidDpopProof, InvalidGrant, InvalidScope
from localforce.oauth.flows.needs import (
    Clients,
    Clock,
    LoginPolicy,
    RefreshTokens,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.grants import login_context
from localforce.oauth.issuing import IssuePolicy, dpop_missing
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.ports import REFRESH, TokenRecord
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

    def __init__(self, clients: Clients, tokens: RefreshTokens, users: UserLookup,
                 logins: LoginPolicy, issuer: TokenWriter, clock: Clock) -> None:
        self._clients = clients
        self._tokens = tokens
        self._users = users
        self._logins = logins
        self._issuer = issuer
        self._clock = clock

    def exchange(self, request: TokenRequest) -> TokenResponse:
        tokens = self._tokens
        presented = request.get("refresh_token")
        record = tokens.find(digest(presented)) if presented else None
        # The built-in PlatformCLI key names one app per org: take the token's org's.
        org_id = record.org_id if record is not None else None
        app = self._clients.find(request.client_id, org_id)
        _, secret = self._clients.client(request, require_secret=app.require_secret_refresh,
                                         org_id=org_id)
        # Bound to its app: another app's refresh token is as good as none.
        if record is None or record.kind != REFRESH or record.app_id != app.id:
            raise InvalidGrant(EXPIRED)
        # RFC 9449 §5: a bound refresh token needs a proof by its key; checked before any
        # rotation, so a thief without the key cannot spend it.
        if record.jkt is not None and request.jkt != record.jkt:
            raise InvalidDpopProof("DPoP proof key does not match the refresh token")
        if dpop_missing(app, request.jkt):
            raise InvalidDpopProof("DPoP proof required")
        now = int(self._clock())
        if record.rotated_at is not None:
            tokens.revoke_family(record.family_id, now)
            raise InvalidGrant(EXPIRED)
        if not record.alive(now) or not policy_allows(app.refresh_token_policy, record, now):
            raise InvalidGrant(EXPIRED)
        user = self._users.get_user(record.user_id)
        if user is None:
            raise InvalidGrant(EXPIRED)
        relax = app.ip_relaxation in (IpRelaxation.ENFORCE_RELAX_REFRESH, IpRelaxation.RELAX)
        context = login_context(request, app, relax_ip=relax)
        self._logins.check(user, context)  # a refusal is recorded in LoginHistory
        scopes = self._narrowed(request, record)
        if app.rotates_refresh_tokens and not tokens.mark_rotated(record.digest, now):
            # Lost a race with another use of the same token: a replay.
            tokens.revoke_family(record.family_id, now)
            raise InvalidGrant(EXPIRED)
        self._logins.refreshed(user, context)
        if not app.rotates_refresh_tokens:
            tokens.touch(record.digest, now)
            return self._issuer.issue(app, user, scopes, IssuePolicy(
                "refresh_token", family_id=record.family_id, parent_digest=record.digest,
                jkt=request.jkt), secret)
        return self._issuer.issue(app, user, scopes, IssuePolicy(
            "refresh_token", with_refresh=True, family_id=record.family_id,
            refresh_scopes=record.scopes, refresh_expires_at=record.expires_at,
            jkt=request.jkt), secret)

    @staticmethod
    def _narrowed(request: TokenRequest, record: TokenRecord) -> tuple[str, ...]:
        """RFC 6749 §6: a requested ``scope`` must not exceed the original grant."""
        asked = scope_words.parse(request.get("scope"))
        if not asked:
            return record.scopes
        if not set(asked) <= set(record.scopes):
            raise InvalidScope()
        return asked
