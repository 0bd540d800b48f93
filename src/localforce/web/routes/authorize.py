"""``/services/oauth2/authorize``: the authorize endpoint's browser side (GET and POST).

GET (or a plain POST, OIDC Core §3.1.2.1) starts a request. The pages post back here with
``_action``: ``login`` (the login form), ``allow`` / ``deny`` (the consent form); the original
authorize parameters ride along as hidden fields and are validated again on every step.
The protocol rules live in ``oauth/endpoints/authorize.py``; this module only maps its
outcomes to pages and redirects. No CORS here (RFC 9700 §2.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.endpoints.authorize import (
    PATH,
    AuthorizeRequest,
    Outcome,
    Redirect,
    Refused,
    ShowConsent,
    ShowLogin,
)
from localforce.oauth.endpoints.par import PATH as PAR_PATH
from localforce.oauth.endpoints.par import required_error
from localforce.oauth.errors import OAuthError
from localforce.oauth.grants import refusal
from localforce.web import forms, threads
from localforce.web.errors import NO_STORE, SalesforceJSON, oauth_error_response
from localforce.web.routes.pages import CONTROL_FIELDS, CREDENTIAL_FAILURES, Pages, scope_labels


def hidden_fields(request: AuthorizeRequest) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.params if k not in CONTROL_FIELDS]


def continuation(request: AuthorizeRequest) -> str:
    """Where a successful login goes next: this request again, its ``prompt=login`` done."""
    params = dict(hidden_fields(request))
    if "prompt" in params:
        params["prompt"] = " ".join(p for p in params["prompt"].split() if p != "login")
    return f"{PATH}?{urlencode(params)}"


class AuthorizePages:
    def __init__(self, services: Services) -> None:
        self.pages = Pages(services)
        self.authorizer = services.browser.authorizer
        self.par = services.browser.par
        self.base_url = services.oauth.base_url

    def handle(self, request: Request, form: Mapping[str, str]) -> Response:
        pages = self.pages
        params = {k: v for k, v in form.items() if k not in CONTROL_FIELDS}
        pushed = "request_uri" in params
        try:
            if pushed:  # RFC 9126 §4: the pushed parameters, once; the others are ignored
                params = self.par.redeem(params)
            areq = self.authorizer.parse(params)
        except Refused as refused:
            return pages.redirect(request, refused.redirect.url)
        except OAuthError as error:  # unknown client, redirect URI or request_uri: no redirect
            return pages.error(request, error)
        action = form.get("_action")
        if action is None:
            if areq.app.require_par and not pushed:
                return self.show(request, self.authorizer.error_redirect(areq, required_error()))
            return self.show(request, self.authorizer.start(areq, pages.sessions.user(request)))
        if not pages.csrf_ok(request, form):
            return pages.csrf_failed(request)
        if action == "login":
            return self.login(request, areq, form)
        user = pages.sessions.user(request)
        if user is None:
            return self.show(request, ShowLogin(areq))
        return self.show(request, self.authorizer.decide(areq, user, action == "allow"))

    def login(self, request: Request, areq: AuthorizeRequest,
              form: Mapping[str, str]) -> Response:
        login_url = f"{self.base_url}{PATH}?response_type={areq.response_type}"
        try:
            user = self.pages.log_in(request, form, areq.app, login_url)
        except LoginFailed as failure:
            if failure.status in CREDENTIAL_FAILURES:
                return self.pages.login_page(request, PATH, areq.app, hidden_fields(areq),
                                             form.get("username"), failure)
            return self.show(request, self.authorizer.error_redirect(areq, refusal(failure)))
        return self.pages.session_response(request, user, self.continuation(areq))

    def continuation(self, areq: AuthorizeRequest) -> str:
        """A "require PAR" app's request goes on by a fresh pushed request (the GET after the
        login must not be one anybody could forge); every other by its parameters."""
        url = continuation(areq)
        if not areq.app.require_par:
            return url
        params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        uri = self.par.store(areq.app, params)
        return f"{PATH}?{urlencode({'client_id': areq.app.consumer_key, 'request_uri': uri})}"

    def show(self, request: Request, outcome: Outcome) -> Response:
        if isinstance(outcome, Redirect):
            return self.pages.redirect(request, outcome.url)
        areq = outcome.request
        if isinstance(outcome, ShowLogin):
            return self.pages.login_page(request, PATH, areq.app, hidden_fields(areq),
                                         areq.login_hint)
        assert isinstance(outcome, ShowConsent)
        return self.pages.render(request, "consent.html", {
            "action": PATH, "app_name": areq.app.name, "hidden": hidden_fields(areq),
            "scope_labels": scope_labels(areq.scopes), "username": outcome.user.username})


def routes(services: Services) -> list[BaseRoute]:
    handler = AuthorizePages(services)

    async def authorize(request: Request) -> Response:
        form = await handler.pages.form(request)
        # A POST may be the login form (argon2): on the login threads.
        run = threads.login if request.method == "POST" else threads.run
        return await run(handler.handle, request, form)

    async def par(request: Request) -> Response:
        """RFC 9126 §2: 201 with the request_uri, or the error JSON (never cached)."""
        try:
            token_req = await forms.token_request(request)
            reply = await threads.run(handler.par.push, token_req, token_req.params)
        except OAuthError as error:
            return oauth_error_response(error)
        return SalesforceJSON(reply.body(), status_code=201, headers=NO_STORE)

    return [Route(PATH, authorize, methods=["GET", "POST"]),
            Route(PAR_PATH, par, methods=["POST"])]
