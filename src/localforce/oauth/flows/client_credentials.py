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

from dataclasses import replace
from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.errors import InvalidGrant, InvalidScope
from localforce.oauth.grants import login_context, refusal, requested_scopes
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.services import OAuthServices

GRANT_TYPES = ("client_credentials",)
NO_RUN_AS = "no client credentials user enabled"


class ClientCredentialsFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, oauth: OAuthServices) -> None:
        self._oauth = oauth

    def exchange(self, request: TokenRequest) -> TokenResponse:
        oauth = self._oauth
        app = oauth.clients.authenticate(request, require_secret=True)
        user = (oauth.directory.store.get_user(app.run_as_user_id)
                if app.enable_client_credentials and app.run_as_user_id else None)
        if user is None or user.org_id != app.org_id:
            raise InvalidGrant(NO_RUN_AS)
        default = tuple(s for s in app.scopes if s not in scope_words.CLIENT_CREDENTIALS_EXCLUDED)
        scopes = requested_scopes(request, app, default)
        if not set(scopes).isdisjoint(scope_words.CLIENT_CREDENTIALS_EXCLUDED):
            raise InvalidScope()
        context = replace(login_context(request, app), run_as=True)
        try:
            oauth.logins.admit(user, context)
        except LoginFailed as failure:
            raise refusal(failure) from None
        oauth.logins.succeeded(user, context)
        return oauth.issuer.issue(app, user, scopes, "client_credentials", with_id_token=False)
