"""Token exchange: RFC 8693, beyond Salesforce (only apps with "allow token exchange").

    POST /services/oauth2/token
    Authorization: Basic base64(consumer_key:consumer_secret)
    grant_type=urn:ietf:params:oauth:grant-type:token-exchange
    &subject_token=00D...!AQ...
    &subject_token_type=urn:ietf:params:oauth:token-type:access_token
    &audience=<the other app's consumer key>[&scope=api]

The requesting app (client-authenticated as every grant is) trades a user's live access token
for an access token of another app of the same org, the *audience*; the new token records the
requesting client as its actor (RFC 8693 §4.1 ``act``, kept in the token's row and shown by
introspection). No refresh token and no id_token: the exchanged token is for one downstream
call chain, and a new exchange is as cheap as a refresh.

Rules (RFC 8693 §2.1 leaves the policy to the server; §5 asks it not to widen privileges):

- the subject token must have been issued to the requesting app: an app may only trade the
  tokens it was handed, never replay another client's;
- a DPoP-bound subject token (RFC 9449) needs a proof by the same key on this request;
- ``scope`` must lie within the audience app's scopes *and* within the subject token's
  (``full`` covering what it covers, as for the app's own scopes): an exchange narrows, it
  never turns a ``chatter_api`` token into an ``api`` one. Without ``scope``, the audience's
  scopes the subject token allows;
- the user must still pass the login rules for the audience app (active, IP ranges, an
  admin-approved app's profiles and permission sets): one LoginHistory row for that app.

Errors (RFC 8693 §2.2.2, RFC 6749 §5.2): ``unauthorized_client`` when the app may not
exchange; ``invalid_request`` for a missing or unsupported parameter; ``invalid_grant`` for a
subject token that is unknown, dead, another app's or another org's; ``invalid_target`` for an
audience that is no app of the org (``resource`` is not taken: there is no URI of an app);
``invalid_scope`` for a scope beyond either bound.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.domain.models import ConnectedApp
from localforce.oauth.errors import (
    InvalidClientId,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    UnauthorizedClient,
)
from localforce.oauth.flows.needs import (
    Clients,
    Clock,
    LoginPolicy,
    TokenLookup,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.grants import allowed_scopes, covered, login_context
from localforce.oauth.issuing import IssuePolicy, bound
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.ports import ACCESS
from localforce.security.tokens import digest

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
FLOW = "token_exchange"
BAD_SUBJECT = "invalid subject token"


class TokenExchangeFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = (GRANT_TYPE,)
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, tokens: TokenLookup, users: UserLookup,
                 logins: LoginPolicy, issuer: TokenWriter, clock: Clock) -> None:
        self._clients = clients
        self._tokens = tokens
        self._users = users
        self._logins = logins
        self._issuer = issuer
        self._clock = clock

    def exchange(self, request: TokenRequest) -> TokenResponse:
        app, _secret = self._clients.client(request, require_secret=True)
        if not app.allow_token_exchange:
            raise UnauthorizedClient()
        subject = request.get("subject_token")
        if subject is None or request.get("subject_token_type") != ACCESS_TOKEN_TYPE:
            raise InvalidRequest("subject_token of type " + ACCESS_TOKEN_TYPE + " required")
        if request.get("requested_token_type") not in (None, ACCESS_TOKEN_TYPE):
            raise InvalidRequest("unsupported requested_token_type")
        if request.get("actor_token") is not None:
            raise InvalidRequest("actor_token is not supported")
        record = self._tokens.find(digest(subject))
        if (record is None or record.kind != ACCESS or not record.alive(int(self._clock()))
                or record.app_id != app.id or record.org_id != app.org_id
                or (record.jkt is not None and record.jkt != request.jkt)):
            raise InvalidGrant(BAD_SUBJECT)
        user = self._users.get_user(record.user_id)
        if user is None or user.org_id != app.org_id:
            raise InvalidGrant(BAD_SUBJECT)
        audience = self._audience(request, app)
        scopes = self._scopes(request, audience, record.scopes)
        self._logins.admit(user, login_context(request, audience))
        policy = bound(IssuePolicy(FLOW, signed=False, with_id_token=False,
                                   act=app.consumer_key), request.jkt)
        issued = self._issuer.issue(audience, user, scopes, policy)
        return replace(issued, extra={"issued_token_type": ACCESS_TOKEN_TYPE})

    def _audience(self, request: TokenRequest, app: ConnectedApp) -> ConnectedApp:
        key = request.get("audience")
        if key is None:
            raise (InvalidTarget("resource is not supported: name the app as audience")
                   if request.get("resource") else InvalidRequest("audience required"))
        try:
            audience = self._clients.find(key, app.org_id)
        except InvalidClientId:
            raise InvalidTarget() from None
        if audience.org_id != app.org_id or audience.builtin:
            raise InvalidTarget()
        return audience

    @staticmethod
    def _scopes(request: TokenRequest, audience: ConnectedApp,
                subject: tuple[str, ...]) -> tuple[str, ...]:
        """Within the audience app's scopes and the subject token's (RFC 8693 §5: the
        exchange must not grant what the user's token did not)."""
        limit = (allowed_scopes(audience) & covered(subject)) - scope_words.REFRESH_SCOPES
        asked = scope_words.parse(request.get("scope"))
        if not asked:
            asked = tuple(s for s in audience.scopes if s in limit)
            if not asked:
                raise InvalidScope()
        elif not set(asked) <= limit:
            raise InvalidScope()
        return asked
