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
from localforce.oauth.errors import InvalidGrant
from localforce.oauth.flows.needs import (
    Clients,
    LoginPolicy,
    OrgLookup,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.grants import login_context, requested_scopes
from localforce.oauth.issuing import IssuePolicy, bound
from localforce.oauth.messages import TokenRequest, TokenResponse

GRANT_TYPES = ("password",)
ISSUE = IssuePolicy("password")


class PasswordFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, orgs: OrgLookup, users: UserLookup,
                 logins: LoginPolicy, issuer: TokenWriter) -> None:
        self._clients = clients
        self._orgs = orgs
        self._users = users
        self._logins = logins
        self._issuer = issuer

    def exchange(self, request: TokenRequest) -> TokenResponse:
        app, secret = self._clients.client(request, require_secret=True)
        context = login_context(request, app)
        username, password = request.get("username"), request.get("password")
        org = self._orgs.get_org(app.org_id)
        if org is None or not org.username_password_flow:
            user = self._users.find_user(username) if username else None
            self._logins.record(context, ports.USERNAME_PASSWORD_DISABLED, user, username)
            raise InvalidGrant()
        scopes = requested_scopes(request, app)
        if not username or not password:
            raise InvalidGrant()
        user = self._logins.password(username, password, context)
        return self._issuer.issue(app, user, scopes, bound(ISSUE, request.jkt), secret)
