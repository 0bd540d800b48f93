"""The ``/setup`` route table: the login page, Home, and each section's routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.audit.export import iso_ms
from localforce.bootstrap import Services
from localforce.data.versions import LATEST
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext, LoginFailed
from localforce.web import threads
from localforce.web.clientip import client_ip
from localforce.web.routes.pages import LOGIN_FAILED
from localforce.web.setup import apps, logs, org, profiles, users
from localforce.web.setup.console import LOGIN_PATH, Console, Ctx, Form, read_form


def routes(services: Services) -> list[BaseRoute]:
    console = Console(services)
    pages, store = console.pages, console.store

    def login_page(request: Request, form: Form) -> Response:
        """The Setup login (LoginHistory type "Application"): password only, then /setup."""
        if request.method == "GET":
            return pages.render(request, "login.html", {"action": LOGIN_PATH, "app_name": None,
                                                        "username": None})
        if not pages.csrf_ok(request, form.flat()):
            return pages.csrf_failed(request)
        username = form.one("username").strip()
        context = LoginContext(ports.UI_LOGIN, client_ip(request), None,
                               f"{services.oauth.base_url}{LOGIN_PATH}")
        try:
            user = services.oauth.logins.password(username, form.one("password"), context,
                                                  require_token=False)
        except LoginFailed:
            return pages.render(request, "login.html", {
                "action": LOGIN_PATH, "app_name": None, "username": username,
                "error": LOGIN_FAILED}, status=401)
        return pages.session_response(request, user, "/setup")

    async def login_route(request: Request) -> Response:
        form = await read_form(request)
        run = threads.login if request.method == "POST" else threads.run
        return await run(login_page, request, form)

    def home(c: Ctx) -> Response:
        logins = services.audit.queries.logins(c.org.id, 0, limit=10)
        return console.render(c, "setup_home.html", {
            "my_domain_url": services.oauth.base_url, "api_version": f"{LATEST}.0",
            "counts": {"Users": len(store.list_users(c.org.id)),
                       "Connected apps": len(store.list_apps(c.org.id)),
                       "Profiles": len(store.list_profiles(c.org.id)),
                       "Permission sets": len(store.list_permission_sets(c.org.id))},
            "logins": [{"time": iso_ms(e.login_time_ms), "username": e.username,
                        "status": e.status, "type": e.login_type, "ip": e.source_ip}
                       for e in logins]})

    return [
        Route(LOGIN_PATH, login_route, methods=["GET", "POST"]),
        Route("/setup", console.gate(home)),
        *apps.routes(console),
        *users.routes(console),
        *logs.routes(console),
        *profiles.routes(console),
        *org.routes(console),
    ]
