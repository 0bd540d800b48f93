"""Rules several token-endpoint flows share: scope selection, login context, the login step
with its error mapping."""

from __future__ import annotations

from localforce.domain import scopes as scope_words
from localforce.domain.models import ConnectedApp, User
from localforce.limits.rate import LOGIN_RATE_EXCEEDED
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext, LoginFailed, Logins
from localforce.oauth.errors import (
    InactiveUser,
    InvalidAppAccess,
    InvalidGrant,
    InvalidScope,
    OAuthError,
    RateLimitExceeded,
)
from localforce.oauth.messages import TokenRequest

IP_RESTRICTED = "ip restricted or invalid login hours"


def allowed_scopes(app: ConnectedApp) -> frozenset[str]:
    """What the app may be granted: its selected scopes; ``full`` covers every other scope
    except the refresh ones, which must be selected themselves (salesforce-wire.md §7.1)."""
    return covered(app.scopes)


def covered(scopes: tuple[str, ...]) -> frozenset[str]:
    """``scopes`` with what ``full`` among them covers: every scope but the refresh ones."""
    granted = set(scopes)
    if "full" in granted:
        granted |= scope_words.KNOWN_SCOPES - scope_words.REFRESH_SCOPES
    return frozenset(granted)


def requested_scopes(request: TokenRequest, app: ConnectedApp,
                     default: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The ``scope`` parameter if given (each must be allowed: else ``invalid_scope``), or
    ``default`` (the app's scopes). Clients expect their requested scopes echoed back."""
    asked = scope_words.parse(request.get("scope"))
    if not asked:
        return app.scopes if default is None else default
    if not set(asked) <= allowed_scopes(app):
        raise InvalidScope()
    return asked


def login_context(request: TokenRequest, app: ConnectedApp, *,
                  relax_ip: bool = False, run_as: bool = False) -> LoginContext:
    return LoginContext(ports.OAUTH_LOGIN, request.source_ip, app, request.url,
                        relax_ip=relax_ip, run_as=run_as)


def refusal(failure: LoginFailed) -> OAuthError:
    """The token-endpoint error for a refused login (salesforce-wire.md §4.1). Credential
    failures all read ``authentication failure``, so they reveal nothing about the user."""
    if failure.status == ports.RESTRICTED_IP:
        return InvalidGrant(IP_RESTRICTED)
    if failure.status == ports.USER_INACTIVE:
        return InactiveUser()
    if failure.status == ports.NOT_APPROVED:
        return InvalidAppAccess()
    if failure.status == LOGIN_RATE_EXCEEDED:
        return RateLimitExceeded()
    return InvalidGrant()


class GrantLogins:
    """The login step of the token-endpoint grants (the flows' ``LoginPolicy``): the rules
    every login obeys, the login rate counted, one LoginHistory row, and a refusal raised as
    its OAuth error (``refusal``). The password check is ``password``, apart."""

    def __init__(self, logins: Logins) -> None:
        self._logins = logins

    def admit(self, user: User, context: LoginContext) -> None:
        """Admit ``user`` and record the login (``Success``), or record and raise the refusal."""
        logins = self._logins
        try:
            logins.admit(user, context)
        except LoginFailed as failure:
            raise refusal(failure) from None
        logins.succeeded(user, context)

    def check(self, user: User, context: LoginContext) -> None:
        """``admit`` without the success row: the refresh flow records its login
        (``refreshed``) only once its token is rotated."""
        try:
            self._logins.admit(user, context)
        except LoginFailed as failure:
            raise refusal(failure) from None

    def refreshed(self, user: User, context: LoginContext) -> None:
        self._logins.refreshed(user, context)

    def password(self, username: str, password: str, context: LoginContext) -> User:
        """The password (+ security token) check, then ``admit``; refusals as OAuth errors."""
        try:
            return self._logins.password(username, password, context)
        except LoginFailed as failure:
            raise refusal(failure) from None

    def record(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> None:
        """A LoginHistory row for an attempt refused before any user was admitted."""
        self._logins.record(context, status, user, username)
