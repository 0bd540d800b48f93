"""Username-password flow: RFC 6749 §4.3, Salesforce's legacy flow (salesforce-wire.md §2.6).

    POST /services/oauth2/token
    grant_type=password&client_id=3MVG9...&client_secret=...&username=u@x.com
    &password=<password><security token>

Refused with ``invalid_grant``/``authentication failure`` unless the org allows the flow
(Setup: "Allow OAuth Username-Password Flows"; LoginHistory says "Username-Password Flow
Disabled"). Every credential failure counts toward lockout. No refresh token: Salesforce
never issues one for this flow.
"""

from __future__ import annotations

from typing import ClassVar

from localforce.oauth import ports
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.errors import InvalidGrant
from localforce.oauth.grants import login_context, refusal, requested_scopes
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.services import OAuthServices

GRANT_TYPES = ("password",)


class PasswordFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, oauth: OAuthServices) -> None:
        self._oauth = oauth

    def exchange(self, request: TokenRequest) -> TokenResponse:
        oauth = self._oauth
        app = oauth.clients.authenticate(request, require_secret=True)
        context = login_context(request, app)
        username, password = request.get("username"), request.get("password")
        org = oauth.directory.store.get_org(app.org_id)
        if org is None or not org.username_password_flow:
            user = oauth.directory.store.find_user(username) if username else None
            oauth.logins.record(context, ports.USERNAME_PASSWORD_DISABLED, user, username)
            raise InvalidGrant()
        scopes = requested_scopes(request, app)
        if not username or not password:
            raise InvalidGrant()
        try:
            user = oauth.logins.password(username, password, context)
        except LoginFailed as failure:
            raise refusal(failure) from None
        return oauth.issuer.issue(app, user, scopes, "password")
