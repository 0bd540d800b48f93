"""The authorization endpoint, RFC 6749 §3.1 / §4.1.1 / §4.2.1, as Salesforce speaks it.

``GET /services/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…`` (salesforce-wire.md
§2.1, §2.2, §4.2):

1. The client and the redirect URI are checked first. An unknown ``client_id`` or a
   ``redirect_uri`` that is not *exactly* a registered callback is shown as an error page and
   never redirected (RFC 6749 §4.1.2.1; RFC 9700 §2.1 "exact string matching").
2. Every later error is redirected with ``error``, ``error_description`` and ``state``: in the
   query for ``code``, in the fragment for ``token`` (RFC 6749 §4.1.2.1, §4.2.2.1).
3. Then the user logs in (``prompt=login`` forces it), consents (``prompt=consent`` forces
   it; admin-approved apps skip it for pre-authorized users and refuse everybody else), and
   the response carries a code, or tokens in the fragment (the user-agent flow), plus ``iss``
   (RFC 9207).

The web layer renders the outcome: ``ShowLogin``, ``ShowConsent`` or ``Redirect``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from localforce.directory.ports import AppsByKey
from localforce.directory.service import DirectoryError, check_callback_url
from localforce.domain import scopes as scope_words
from localforce.domain.models import ConnectedApp, PermittedUsers, User
from localforce.oauth import pkce
from localforce.oauth.artifacts import AuthorizationCode, CodeStore
from localforce.oauth.errors import (
    AccessDenied,
    ConsentRequired,
    ImmediateUnsuccessful,
    InvalidAppAccess,
    InvalidClientId,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    RedirectUriMismatch,
    RedirectUriMissing,
    UnsupportedResponseType,
)
from localforce.oauth.grants import allowed_scopes
from localforce.oauth.issuing import IssuePolicy, Issuer, new_family_id
from localforce.oauth.ports import ConsentStore
from localforce.security.tokens import digest

PATH = "/services/oauth2/authorize"
#: Single use, 10 minutes: RFC 6749 §4.1.2's maximum (Salesforce's are valid 15 minutes,
#: salesforce-wire.md §2.1); ``authorization_code_seconds`` sets less.
CODE_TTL = 10 * 60
CODE = "code"
#: ``response_type`` values, order-insensitive (OIDC Core §3.2.2.1 allows ``id_token token``).
RESPONSE_TYPES = {frozenset({"code"}): CODE, frozenset({"token"}): "token",
                  frozenset({"token", "id_token"}): "token id_token"}
PROMPTS = frozenset({"login", "consent", "select_account", "none"})
#: Token-record ``flow`` names, as the token store and LoginHistory see them.
USER_AGENT_FLOW = "user_agent"


@dataclass(frozen=True)
class AuthorizeRequest:
    app: ConnectedApp
    redirect_uri: str
    response_type: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: tuple[str, str] | None
    prompt: frozenset[str]
    immediate: bool
    login_hint: str | None
    display: str | None
    nonce: str | None
    #: The request's parameters, to carry through the login and consent forms.
    params: tuple[tuple[str, str], ...]

    @property
    def in_fragment(self) -> bool:
        return self.response_type != CODE

    @property
    def silent(self) -> bool:
        """``immediate=true`` (Salesforce) or ``prompt=none`` (OIDC): no page may be shown."""
        return self.immediate or "none" in self.prompt


@dataclass(frozen=True)
class ShowLogin:
    request: AuthorizeRequest


@dataclass(frozen=True)
class ShowConsent:
    request: AuthorizeRequest
    user: User


@dataclass(frozen=True)
class Redirect:
    url: str


Outcome = ShowLogin | ShowConsent | Redirect


class Refused(Exception):
    """An error to redirect to the (trusted) redirect URI."""

    def __init__(self, redirect: Redirect) -> None:
        super().__init__(redirect.url)
        self.redirect = redirect


def with_params(url: str, params: Mapping[str, str], fragment: bool) -> str:
    """Add response parameters to a registered redirect URI, keeping its own query."""
    parts = urlsplit(url)
    if fragment:
        return urlunsplit(parts._replace(fragment=urlencode(params)))
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class Authorizer:
    def __init__(self, apps: AppsByKey, codes: CodeStore, consents: ConsentStore,
                 issuer: Issuer, clock: Callable[[], float], issuer_id: str,
                 code_ttl: int = CODE_TTL) -> None:
        self._apps = apps
        self._codes = codes
        self._consents = consents
        self._issuer = issuer
        self._clock = clock
        #: RFC 9207 ``iss``: this server's issuer identifier.
        self.issuer_id = issuer_id
        self._code_ttl = code_ttl

    # -- validation -----------------------------------------------------------------------

    def parse(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """Raise ``OAuthError`` (show a page) or ``Refused`` (redirect); else the request."""
        base, response_type = self._base(params)
        try:
            return self._validate(base, params, response_type)
        except OAuthError as error:
            raise Refused(self.error_redirect(base, error)) from None

    def check(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """The same validation as ``parse``, every error raised as is (RFC 9126's pushed
        authorization endpoint answers them as JSON)."""
        base, response_type = self._base(params)
        return self._validate(base, params, response_type)

    def _base(self, params: Mapping[str, str]) -> tuple[AuthorizeRequest, str | None]:
        app, redirect_uri = self._client_and_redirect(params)
        raw_type = params.get("response_type", "")
        response_type = RESPONSE_TYPES.get(frozenset(raw_type.split()))
        # Until validated, errors go where the requested response type would have gone.
        guessed = response_type or ("token" if "token" in raw_type.split() else CODE)
        base = AuthorizeRequest(
            app=app, redirect_uri=redirect_uri, response_type=guessed,
            scopes=(), state=params.get("state") or None, challenge=None, prompt=frozenset(),
            immediate=params.get("immediate", "").lower() == "true",
            login_hint=params.get("login_hint") or None, display=params.get("display") or None,
            nonce=params.get("nonce") or None, params=tuple(params.items()))
        return base, response_type

    def _client_and_redirect(self, params: Mapping[str, str]) -> tuple[ConnectedApp, str]:
        app = self._apps.find_app_by_key(params.get("client_id", ""))
        if app is None:
            raise InvalidClientId()
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise RedirectUriMissing()
        # RFC 9700 §2.1: exact string comparison, no normalisation of case, slashes or dots.
        if redirect_uri not in app.callback_urls:
            raise RedirectUriMismatch()
        try:  # registered before the rule was this strict: still never redirected to
            check_callback_url(redirect_uri)
        except DirectoryError:
            raise RedirectUriMismatch() from None
        return app, redirect_uri

    def _validate(self, base: AuthorizeRequest, params: Mapping[str, str],
                  response_type: str | None) -> AuthorizeRequest:
        app = base.app
        if response_type is None or (response_type != CODE and not app.enable_implicit):
            raise UnsupportedResponseType()
        prompt = frozenset(params.get("prompt", "").split())
        if not prompt <= PROMPTS or ("none" in prompt and len(prompt) > 1):
            raise InvalidRequest("invalid prompt parameter")
        if response_type == "token id_token" and not base.nonce:
            raise InvalidRequest("nonce is required for the token id_token response type")
        challenge = None
        if response_type == CODE:
            challenge = pkce.check_challenge(params.get("code_challenge"),
                                             params.get("code_challenge_method"))
            # RFC 9700 §2.1.1: public clients MUST use PKCE; apps may require it too.
            if challenge is None and (app.require_pkce or not app.has_secret):
                raise InvalidRequest("missing required code challenge")
        return replace(base, response_type=response_type, prompt=prompt, challenge=challenge,
                       scopes=self._scopes(app, params.get("scope")))

    @staticmethod
    def _scopes(app: ConnectedApp, requested: str | None) -> tuple[str, ...]:
        """The requested scopes, each of which the app must allow; none asked: all of them."""
        wanted = scope_words.parse(requested)
        if not wanted:
            return app.scopes
        if not set(wanted) <= allowed_scopes(app):
            raise InvalidScope()
        return wanted

    # -- the steps ------------------------------------------------------------------------

    def start(self, request: AuthorizeRequest, user: User | None) -> Outcome:
        """A fresh authorize request, with the browser's logged-in user if any."""
        if user is None or "login" in request.prompt:
            if request.silent:
                return self.error_redirect(request, self._silent_error(request, login=True))
            return ShowLogin(request)
        return self.after_login(request, user)

    def after_login(self, request: AuthorizeRequest, user: User) -> Outcome:
        """The user is authenticated for this request: consent, or straight to the client."""
        request = replace(request, app=self.app_for(request.app, user))
        app = request.app
        if app.permitted_users == PermittedUsers.ADMIN_APPROVED:
            if not app.pre_authorizes(user):
                return self.error_redirect(request, InvalidAppAccess())
            if "consent" not in request.prompt:
                return self.approve(request, user)
        remembered = self._consents.find_consent(user.id, app.id)
        if (remembered is not None and set(request.scopes) <= set(remembered)
                and "consent" not in request.prompt):
            return self.approve(request, user)
        if request.silent:
            return self.error_redirect(request, self._silent_error(request, login=False))
        return ShowConsent(request, user)

    def decide(self, request: AuthorizeRequest, user: User, allow: bool) -> Redirect:
        """The consent page's Allow or Deny."""
        request = replace(request, app=self.app_for(request.app, user))
        if not allow:
            return self.error_redirect(request, AccessDenied())
        if (request.app.permitted_users == PermittedUsers.ADMIN_APPROVED
                and not request.app.pre_authorizes(user)):
            return self.error_redirect(request, InvalidAppAccess())
        self._consents.save_consent(user.id, request.app.id, request.scopes, self._now())
        return self.approve(request, user)

    def approve(self, request: AuthorizeRequest, user: User) -> Redirect:
        """Issue the code (or, for the user-agent flow, the tokens) and send them back."""
        if request.response_type == CODE:
            return self._respond(request, {"code": self._issue_code(request, user)})
        tokens = self._issuer.issue(request.app, user, request.scopes, IssuePolicy(
            USER_AGENT_FLOW, with_refresh=scope_words.allows_refresh(request.scopes),
            nonce=request.nonce))
        return self._respond(request, {k: str(v) for k, v in tokens.body().items()})

    def error_redirect(self, request: AuthorizeRequest, error: OAuthError) -> Redirect:
        return self._respond(request, error.body())

    # -- helpers --------------------------------------------------------------------------

    def app_for(self, app: ConnectedApp, user: User) -> ConnectedApp:
        """Built-in apps (PlatformCLI) exist once per org: use the user's own org's copy."""
        if app.builtin and app.org_id != user.org_id:
            return self._apps.find_app_by_key(app.consumer_key, user.org_id) or app
        return app

    def _issue_code(self, request: AuthorizeRequest, user: User) -> str:
        now = self._now()
        code = "aPrx" + secrets.token_urlsafe(48)
        challenge, method = request.challenge or (None, None)
        self._codes.save_code(AuthorizationCode(
            digest=digest(code), app_id=request.app.id, user_id=user.id,
            redirect_uri=request.redirect_uri, scopes=request.scopes, code_challenge=challenge,
            code_challenge_method=method, nonce=request.nonce, family_id=new_family_id(),
            issued_at=now, expires_at=now + self._code_ttl))
        return code

    def _respond(self, request: AuthorizeRequest, params: Mapping[str, str]) -> Redirect:
        out = dict(params)
        if request.state is not None:
            out["state"] = request.state
        out["iss"] = self.issuer_id  # RFC 9207 §2: in every authorization response
        return Redirect(with_params(request.redirect_uri, out, request.in_fragment))

    @staticmethod
    def _silent_error(request: AuthorizeRequest, login: bool) -> OAuthError:
        if request.immediate:
            return ImmediateUnsuccessful()
        return LoginRequired() if login else ConsentRequired()

    def _now(self) -> int:
        return int(self._clock())
