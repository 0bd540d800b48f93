"""What every Setup page shares: the form reader, the admin gate, rendering, the context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from localforce.audit.export import iso_ms
from localforce.bootstrap import Services
from localforce.directory import audit
from localforce.directory.audit import Actor
from localforce.directory.service import Directory
from localforce.domain.models import ConnectedApp, Org, User
from localforce.web import threads
from localforce.web.routes.pages import PAGE_HEADERS, Pages

if TYPE_CHECKING:
    from jinja2 import Environment

LOGIN_PATH = "/setup/login"
#: The largest form field or certificate file the console reads.
MAX_UPLOAD = 64 * 1024


class Form(dict[str, list[str]]):
    """A submitted form: every field's values (checkboxes repeat), files read as text."""

    def one(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default

    def first_filled(self, name: str) -> str:
        return next((v for v in self.get(name, []) if v.strip()), "")

    def flag(self, name: str) -> bool:
        return name in self

    def flat(self) -> dict[str, str]:
        return {k: v[0] for k, v in self.items() if v}


async def read_form(request: Request) -> Form:
    form = Form()
    if request.method != "POST":
        return form
    async with request.form(max_part_size=MAX_UPLOAD) as data:
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                content = (await value.read(MAX_UPLOAD + 1)).decode("utf-8", "replace")
                if content:
                    form.setdefault(key, []).append(content)
            else:
                form.setdefault(key, []).append(value)
    return form


#: Setup pages may run the one static script (copy buttons); nothing inline, nothing else.
SETUP_CSP = PAGE_HEADERS["Content-Security-Policy"].replace(
    "default-src 'none';", "default-src 'none'; script-src 'self';")


class SetupPages(Pages):
    def render(self, request: Request, template: str, context: Mapping[str, Any],
               status: int = 200, browser_id: str | None = None) -> Response:
        response = super().render(request, template, context, status, browser_id)
        response.headers["Content-Security-Policy"] = SETUP_CSP
        return response

    @cached_property
    def templates(self) -> Environment:
        from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

        env = Environment(loader=ChoiceLoader([PackageLoader("localforce.web.setup",
                                                             "templates"),
                                               PackageLoader("localforce.web", "templates")]),
                          autoescape=select_autoescape(default=True))
        env.filters["iso_ms"] = iso_ms
        return env


@dataclass
class Ctx:
    """One admin request: who, in which org, through which directory (audited as them)."""

    request: Request
    form: Form
    user: User
    org: Org
    directory: Directory

    @property
    def method(self) -> str:
        return self.request.method

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Ctx], Response]


class Console:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.directory_reads
        self.pages = SetupPages(services)

    def is_admin(self, user: User) -> bool:
        """"Manage Users" on the user's profile or one of their permission sets."""
        profile = self.store.get_profile(user.profile_id)
        if profile is not None and profile.manage_users:
            return True
        return any(ps is not None and ps.manage_users
                   for ps in map(self.store.get_permission_set, user.permission_set_ids))

    def render(self, c: Ctx, template: str, context: dict[str, Any],
               status: int = 200) -> Response:
        return self.pages.render(c.request, template,
                                 {"admin": c.user, "org": c.org, **context}, status)

    def redirect(self, c: Ctx, url: str) -> Response:
        return self.pages.redirect(c.request, url)

    def not_found(self, c: Ctx, what: str) -> Response:
        return self.pages.message(c.request, "Not found", f"No such {what}.", 404)

    def revoke_tokens(self, c: Ctx, app: ConnectedApp, user: User | None) -> None:
        """Revoke the app's tokens of ``user``, or of every user holding some; one audit entry
        (as ``localforce tokens revoke`` does)."""
        now = int(self.services.clock())
        holders = ([user.id] if user is not None else
                   [u.user_id for u in self.services.audit.queries.app_users(app.id, now)])
        for holder in holders:
            self.services.oauth.tokens.revoke_for(holder, app.id, now)
        who = user.username if user is not None else "all users"
        c.directory.record(c.org.id, "revokedOauthTokens", audit.SECTION_APPS,
                           f"Revoked OAuth tokens of {who} for connected app {app.name}")

    def gate(self, handler: Handler, login: bool = False
             ) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint of an admin page: session, "Manage Users", CSRF on every POST."""
        pages = self.pages

        def guarded(request: Request, form: Form) -> Response:
            user = pages.sessions.user(request)
            if user is None:
                if request.method == "POST":
                    return pages.message(request, "Log in", "Log in to use Setup.", 403)
                return pages.redirect(request, LOGIN_PATH)
            if not self.is_admin(user):
                return pages.message(request, "Insufficient privileges",
                                     f"{user.username} may not use Setup: it needs the Manage "
                                     "Users permission (the System Administrator profile).",
                                     403)
            if request.method == "POST" and not pages.csrf_ok(request, form.flat()):
                return pages.csrf_failed(request)
            org = self.store.get_org(user.org_id)
            assert org is not None
            return handler(Ctx(request, form, user, org, self.services.directory.as_actor(
                Actor(user.id, "Setup"))))

        async def endpoint(request: Request) -> Response:
            form = await read_form(request)
            # ``login``: the handler checks a password (argon2): on the login threads.
            run = threads.login if login and request.method == "POST" else threads.run
            return await run(guarded, request, form)

        return endpoint


#: Rows a Setup table shows a page.
PAGE_SIZE = 50


def page_of(c: Ctx, rows: list[Any]) -> dict[str, Any]:
    """The ``PAGE_SIZE`` rows of the page the query asks for, and the paging links' state."""
    try:
        page = max(1, int(c.request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    return {"rows": rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], "page": page,
            "pages": pages, "total": len(rows)}
