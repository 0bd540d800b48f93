"""Browser pages: rendering with their security headers, login, logout, connected apps.

Every page is a Jinja2 template that works without JavaScript and carries:
``Content-Security-Policy`` with ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``
(RFC 9700 §4.16, clickjacking), ``Cache-Control: no-store``, ``Referrer-Policy: no-referrer``;
every form carries a CSRF token (``web/csrf.py``); a POST that changes state answers 303
(RFC 9700 §4.12: never 307 after credentials). No CORS headers anywhere here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from localforce.bootstrap import Services
from localforce.domain import scopes as scope_words
from localforce.domain.models import ConnectedApp, User
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext, LoginFailed
from localforce.oauth.errors import OAuthError
from localforce.security.tokens import random_token
from localforce.web import csrf, threads
from localforce.web.clientip import client_ip
from localforce.web.forms import params
from localforce.web.sessions import BrowserSessions

if TYPE_CHECKING:
    from jinja2 import Environment

PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "base-uri 'none'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}
#: Login failures that say nothing about the account (ASVS 6.3.8: no enumeration).
CREDENTIAL_FAILURES = frozenset({ports.INVALID_PASSWORD, ports.PASSWORD_LOCKOUT})
LOGIN_FAILED = "Please check your username and password. If you still can't log in, " \
               "contact your Salesforce administrator."
#: Form fields that are the pages' own, never carried as OAuth parameters.
CONTROL_FIELDS = frozenset({"_action", csrf.FIELD, "username", "password"})


def scope_labels(scopes: Sequence[str]) -> list[str]:
    """The consent page's words for scopes, once each, in the requested order."""
    labels = [scope_words.SCOPE_LABELS.get(s, s) + f" ({s})" for s in scopes]
    return list(dict.fromkeys(labels))


class Pages:
    """What every browser route shares: templates, headers, cookies, CSRF, logins."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sessions = BrowserSessions(services.browser.grants, services.directory_reads,
                                        services.clock, services.directory.session_seconds)

    @cached_property
    def templates(self) -> Environment:
        """Built on the first page: API-only workers never import Jinja2 (start-up, memory)."""
        from jinja2 import Environment, PackageLoader, select_autoescape

        return Environment(loader=PackageLoader("localforce.web", "templates"),
                           autoescape=select_autoescape(default=True))

    async def form(self, request: Request) -> dict[str, str]:
        return await params(request)

    def render(self, request: Request, template: str, context: Mapping[str, Any],
               status: int = 200, browser_id: str | None = None) -> Response:
        """A page; gives the browser a session cookie first if it has none (for CSRF)."""
        current = self.sessions.browser_id(request)
        browser_id = browser_id or current or random_token(32)
        html = self.templates.get_template(template).render(
            {"hidden": (), **context, "csrf_token": csrf.token_for(browser_id)})
        response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
        if browser_id != current:
            self.sessions.set_cookie(request, response, browser_id)
        return response

    def error(self, request: Request, error: OAuthError, status: int = 400) -> Response:
        return self.render(request, "error.html", {"error": error.error,
                                                    "description": error.description}, status)

    def message(self, request: Request, title: str, message: str, status: int = 200) -> Response:
        return self.render(request, "message.html", {"title": title, "message": message},
                           status)

    @staticmethod
    def redirect(request: Request, url: str) -> Response:
        """302 for a GET; 303 after a POST so the browser never re-posts the form."""
        status = 303 if request.method == "POST" else 302
        return RedirectResponse(url, status_code=status, headers=PAGE_HEADERS)

    def csrf_ok(self, request: Request, form: Mapping[str, str]) -> bool:
        return csrf.valid(self.sessions.browser_id(request), form.get(csrf.FIELD))

    def csrf_failed(self, request: Request) -> Response:
        return self.message(request, "Session expired",
                            "Your session has expired or the form is invalid. Please start "
                            "again.", status=403)

    def log_in(self, request: Request, form: Mapping[str, str], app: ConnectedApp,
               login_url: str) -> User:
        """Check the password (no security token on a login page) and the login rules,
        recording the attempt in LoginHistory; raises ``LoginFailed``."""
        context = LoginContext(ports.OAUTH_LOGIN, client_ip(request), app, login_url)
        return self.services.oauth.logins.password(
            form.get("username", "").strip(), form.get("password", ""), context,
            require_token=False)

    def session_response(self, request: Request, user: User, url: str) -> Response:
        """After a good login: a new session id, and 303 to where the user was going."""
        browser_id = self.sessions.log_in(request, user)
        response = self.redirect(request, url)
        self.sessions.set_cookie(request, response, browser_id, user)
        return response

    def login_page(self, request: Request, action: str, app: ConnectedApp,
                   hidden: Sequence[tuple[str, str]], username: str | None,
                   failure: LoginFailed | None = None) -> Response:
        return self.render(request, "login.html", {
            "action": action, "app_name": app.name, "hidden": hidden, "username": username,
            "error": LOGIN_FAILED if failure else None})


def routes(services: Services) -> list[BaseRoute]:
    pages = Pages(services)
    services_oauth = services.oauth

    async def logout(request: Request) -> Response:
        form = await pages.form(request)
        if request.method == "POST":
            if not pages.csrf_ok(request, form):
                return pages.csrf_failed(request)
            await threads.run(pages.sessions.log_out, request)
            return pages.render(request, "logout.html", {"username": None},
                                browser_id=random_token(32))
        user = await threads.run(pages.sessions.user, request)
        return pages.render(request, "logout.html", {"username": user.username if user else None})

    def connected_apps(request: Request, form: Mapping[str, str]) -> Response:
        user = pages.sessions.user(request)
        if user is None:
            return pages.message(request, "Connected apps", "Log in through an app first.", 401)
        if request.method == "POST":
            if not pages.csrf_ok(request, form):
                return pages.csrf_failed(request)
            app_id = form.get("app_id", "")
            services_oauth.consents.delete_consent(user.id, app_id)
            services_oauth.tokens.revoke_for(user.id, app_id, services_oauth.now())
            return pages.redirect(request, "/settings/connected-apps")
        store = services.directory_reads
        apps = [{"id": c.app_id, "name": app.name, "scopes": " ".join(c.scopes)}
                for c in services.browser.grants.list_consents(user.id)
                if (app := store.get_app(c.app_id)) is not None]
        return pages.render(request, "connected_apps.html",
                            {"username": user.username, "apps": apps})

    async def connected_apps_route(request: Request) -> Response:
        form = await pages.form(request)
        return await threads.run(connected_apps, request, form)

    return [
        Route("/logout", logout, methods=["GET", "POST"]),
        Route("/secur/logout.jsp", logout, methods=["GET", "POST"]),
        Route("/settings/connected-apps", connected_apps_route, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(packages=[("localforce.web", "static")]), name="static"),
    ]
