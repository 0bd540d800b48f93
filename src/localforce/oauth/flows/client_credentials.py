"""Client credentials flow: RFC 6749 §4.4, Salesforce's variant (salesforce-wire.md §2.7).

    POST /services/oauth2/token
    Authorization: Basic base64(consumer_key:consumer_secret)
    grant_type=client_credentials

Only for apps with "Enable Client Credentials Flow" and a Run As user; the token acts as that
user and carries the app's scopes except ``full``, ``web``, ``offline_access`` and
``refresh_token``. Never a refresh token, and no ``id_token`` even with ``openid``: §2.7's
response fields are ``access_token, signature, scope, instance_url, id, token_type,
issued_at, api_instance_url``. (Salesforce takes this only on the My Domain host;
here the server's own URL is that host.)
"""

from __future__ import annotations

from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.oauth.errors import InvalidGrant, InvalidScope
from localforce.oauth.flows.needs import Clients, LoginPolicy, TokenWriter, UserLookup
from localforce.oauth.grants import login_context, requested_scopes
from localforce.oauth.issuing import IssuePolicy, bound
from localforce.oauth.messages import TokenRequest, TokenResponse

GRANT_TYPES = ("client_credentials",)
NO_RUN_AS = "no client credentials user enabled"
ISSUE = IssuePolicy("client_credentials", with_id_token=False)


class ClientCredentialsFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, users: UserLookup, logins: LoginPolicy,
                 issuer: TokenWriter) -> None:
        self._clients = clients
        self._users = users
        self._logins = logins
        self._issuer = issuer

    def exchange(self, request: TokenRequest) -> TokenResponse:
        app, secret = self._clients.client(request, require_secret=True)
        user = (self._users.get_user(app.run_as_user_id)
                if app.enable_client_credentials and app.run_as_user_id else None)
        if user is None or user.org_id != app.org_id:
            raise InvalidGrant(NO_RUN_AS)
        default = tuple(s for s in app.scopes if s not in scope_words.CLIENT_CREDENTIALS_EXCLUDED)
        scopes = requested_scopes(request, app, default)
        if not set(scopes).isdisjoint(scope_words.CLIENT_CREDENTIALS_EXCLUDED):
            raise InvalidScope()
        self._logins.admit(user, login_context(request, app, run_as=True))
        return self._issuer.issue(app, user, scopes, bound(ISSUE, request.jkt), secret)
