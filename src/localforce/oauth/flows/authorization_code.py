"""Authorization code grant: RFC 6749 §4.1.3, with PKCE (RFC 7636 §4.5) and Salesforce's wording.

    POST /services/oauth2/token
    grant_type=authorization_code&code=aPrx...&client_id=3MVG9...&client_secret=...
        &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=...

Order (node-oidc's): find the code, check it, then consume it atomically.

- The code is bound to its app, its redirect URI and its PKCE challenge (RFC 6749 §4.1.3:
  "ensure that the authorization code was issued to the authenticated confidential client";
  ``redirect_uri`` "MUST" be identical), and lives 15 minutes.
- A code presented a second time is an attack: "the authorization server ... SHOULD revoke
  (when possible) all tokens previously issued based on that authorization code" (RFC 6749
  §4.1.2); Salesforce answers ``invalid_grant`` / ``expired authorization code``.
- The secret is required unless the app turns off "Require Secret for Web Server Flow" or has
  none (a public client such as PlatformCLI, which must use PKCE instead).
"""

from __future__ import annotations

from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.oauth import pkce
from localforce.oauth.artifacts import AuthorizationCode
from localforce.oauth.errors import (
    InactiveUser,
    InvalidDpopProof,
    InvalidGrant,
    InvalidRequest,
    RedirectUriMismatch,
)
from localforce.oauth.flows.needs import (
    AppLookup,
    Clients,
    Clock,
    Codes,
    FamilyRevoker,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.issuing import IssuePolicy, dpop_missing
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.security.tokens import digest

GRANT_TYPES = ("authorization_code",)
EXPIRED = "expired authorization code"
INVALID = "invalid authorization code"


class AuthorizationCodeFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, codes: Codes, apps: AppLookup, users: UserLookup,
                 tokens: FamilyRevoker, issuer: TokenWriter, clock: Clock) -> None:
        self._clients = clients
        self._codes = codes
        self._apps = apps
        self._users = users
        self._tokens = tokens
        self._issuer = issuer
        self._clock = clock

    def exchange(self, request: TokenRequest) -> TokenResponse:
        app = self._clients.find(request.client_id)
        _, secret = self._clients.client(
            request, require_secret=app.has_secret and app.require_secret_web_server)
        if dpop_missing(app, request.jkt):
            raise InvalidDpopProof("DPoP proof required")  # before the code is spent
        presented = request.get("code")
        if presented is None:
            raise InvalidRequest("missing required parameter: code")
        code = self._codes.get_code(digest(presented))
        # Another app's code is as good as none (RFC 6749 §4.1.3). Compared by consumer key:
        # a built-in app (PlatformCLI) has one copy per org, and the code names the user's.
        issued_to = self._apps.get_app(code.app_id) if code else None
        if code is None or issued_to is None or issued_to.consumer_key != app.consumer_key:
            raise InvalidGrant(INVALID)
        now = int(self._clock())
        if code.consumed_at is not None:
            self._replayed(code, now)
        if code.expired(now):
            raise InvalidGrant(EXPIRED)
        if request.get("redirect_uri") != code.redirect_uri:
            raise RedirectUriMismatch()
        pkce.verify(request.get("code_verifier"), code.code_challenge,
                    code.code_challenge_method)
        if self._codes.consume_code(code.digest, now) is None:
            self._replayed(code, now)  # lost the race to a concurrent redemption
        user = self._users.get_user(code.user_id)
        if user is None:
            raise InvalidGrant(EXPIRED)
        # The login rules (IP ranges, admin approval) were applied to the browser at the
        # authorize step; this call comes from the client's server, so only re-check activity.
        if not user.active:
            raise InactiveUser()
        # The presented secret is the one of the app the code was issued to only if that is
        # the caller's own copy (a built-in app has one per org): else the issuer opens it.
        return self._issuer.issue(issued_to, user, code.scopes, IssuePolicy(
            GRANT_TYPES[0], with_refresh=scope_words.allows_refresh(code.scopes),
            family_id=code.family_id, nonce=code.nonce, jkt=request.jkt),
            secret if issued_to.id == app.id else None)

    def _replayed(self, code: AuthorizationCode, now: int) -> None:
        """RFC 6749 §4.1.2 / RFC 9700 §4.5: revoke everything the code produced."""
        self._tokens.revoke_family(code.family_id, now)
        raise InvalidGrant(EXPIRED)
