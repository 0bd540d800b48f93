"""The ``/setup`` routes: the gate, Home and App Manager (see the package docstring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.audit.export import iso_ms
from localforce.bootstrap import Services
from localforce.data.versions import LATEST
from localforce.directory import audit
from localforce.directory.audit import Actor
from localforce.directory.service import (
    Directory,
    DirectoryError,
    check_certificate,
    generate_consumer_secret,
)
from localforce.domain import ids
from localforce.domain.models import (
    ConnectedApp,
    IpRelaxation,
    Org,
    PermittedUsers,
    RefreshTokenPolicy,
    User,
)
from localforce.domain.scopes import SCOPE_LABELS
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext, LoginFailed
from localforce.security.passwords import verify_password
from localforce.web import threads
from localforce.web.clientip import client_ip
from localforce.web.routes.pages import LOGIN_FAILED, Pages

if TYPE_CHECKING:
    from jinja2 import Environment

LOGIN_PATH = "/setup/login"
#: The largest form or certificate file the console reads.
MAX_UPLOAD = 64 * 1024
_FLAGS = ("require_pkce", "require_secret_web_server", "require_secret_refresh",
          "enable_implicit", "enable_device_flow", "enable_client_credentials",
          "rotate_refresh_tokens")
_NOTICES = {"created": "Connected app created.", "saved": "Connected app saved.",
            "rotated": "Consumer secret rotated: the old one no longer works.",
            "revoked": "OAuth tokens revoked."}


class Form(dict[str, list[str]]):
    """A submitted form: every field's values (checkboxes repeat), files read as text."""

    def one(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default

    def first_filled(self, name: str) -> str:
        return next((v for v in self.get(name, []) if v.strip()), "")

    def flag(self, name: str) -> bool:
        return name in self


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


class SetupPages(Pages):
    @cached_property
    def templates(self) -> Environment:
        from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

        return Environment(loader=ChoiceLoader([PackageLoader("localforce.web.setup",
                                                              "templates"),
                                                PackageLoader("localforce.web", "templates")]),
                           autoescape=select_autoescape(default=True))


@dataclass
class Ctx:
    """One admin request: who, in which org, through which directory (audited as them)."""

    request: Request
    form: Form
    user: User
    org: Org
    directory: Directory


def is_admin(services: Services, user: User) -> bool:
    """"Manage Users" on the user's profile or one of their permission sets."""
    store = services.directory.store
    profile = store.get_profile(user.profile_id)
    if profile is not None and profile.manage_users:
        return True
    return any(ps is not None and ps.manage_users
               for ps in map(store.get_permission_set, user.permission_set_ids))


# -- the connected-app form --------------------------------------------------------------------

def values_from_app(app: ConnectedApp | None) -> dict[str, Any]:
    app = app or ConnectedApp(id="", org_id="", name="", consumer_key="",
                              scopes=("api", "refresh_token"))
    return {
        "name": app.name, "callback_urls": "\n".join(app.callback_urls),
        "scopes": set(app.scopes), "certificate": app.certificate or "",
        **{f: getattr(app, f) for f in _FLAGS},
        "run_as": app.run_as_user_id or "", "permitted_users": app.permitted_users.value,
        "profiles": set(app.authorized_profile_ids),
        "permission_sets": set(app.authorized_permission_set_ids),
        "ip_relaxation": app.ip_relaxation.value,
        "session_timeout_minutes": str(app.session_timeout_minutes),
        "refresh_token_policy": app.refresh_token_policy.render(), "public": not app.has_secret,
    }


def values_from_form(form: Form) -> dict[str, Any]:
    return {
        "name": form.one("name").strip(), "callback_urls": form.one("callback_urls"),
        "scopes": set(form.get("scopes", [])),
        "certificate": (form.first_filled("certificate_file") or form.one("certificate")).strip(),
        **{f: form.flag(f) for f in _FLAGS},
        "run_as": form.one("run_as"), "permitted_users": form.one("permitted_users", "all"),
        "profiles": set(form.get("profiles", [])),
        "permission_sets": set(form.get("permission_sets", [])),
        "ip_relaxation": form.one("ip_relaxation", "enforce"),
        "session_timeout_minutes": form.one("session_timeout_minutes", "120").strip(),
        "refresh_token_policy": form.one("refresh_token_policy",
                                         "valid_until_revoked").strip(),
        "public": form.flag("public"),
    }


def app_from_values(base: ConnectedApp, v: dict[str, Any]
                    ) -> tuple[ConnectedApp, dict[str, str]]:
    """The typed app, and the fields whose text does not even parse (the rules are the
    directory's: ``check_app``)."""
    errors: dict[str, str] = {}

    def parse(field: str, convert: Callable[[str], Any], default: Any, message: str) -> Any:
        try:
            return convert(v[field])
        except ValueError as exc:
            errors[field] = message or str(exc)
            return default

    timeout = parse("session_timeout_minutes", int, 120, "must be a whole number of minutes")
    policy = parse("refresh_token_policy", RefreshTokenPolicy.parse, RefreshTokenPolicy(), "")
    permitted = parse("permitted_users", PermittedUsers, PermittedUsers.ALL, "unknown choice")
    relax = parse("ip_relaxation", IpRelaxation, IpRelaxation.ENFORCE, "unknown choice")
    app = replace(
        base, name=v["name"], scopes=tuple(s for s in SCOPE_LABELS if s in v["scopes"]),
        callback_urls=tuple(u.strip() for u in v["callback_urls"].splitlines() if u.strip()),
        certificate=v["certificate"] + "\n" if v["certificate"] else None,
        **{f: v[f] for f in _FLAGS}, run_as_user_id=v["run_as"] or None,
        permitted_users=permitted, authorized_profile_ids=tuple(sorted(v["profiles"])),
        authorized_permission_set_ids=tuple(sorted(v["permission_sets"])),
        ip_relaxation=relax, session_timeout_minutes=timeout, refresh_token_policy=policy)
    return app, errors


# -- the routes ---------------------------------------------------------------------------------

def routes(services: Services) -> list[BaseRoute]:
    pages = SetupPages(services)
    store = services.directory.store

    def render(c: Ctx, template: str, context: dict[str, Any], status: int = 200) -> Response:
        return pages.render(c.request, template, {"admin": c.user, "org": c.org, **context},
                            status)

    def forbidden(request: Request, user: User) -> Response:
        return pages.message(request, "Insufficient privileges",
                             f"{user.username} may not use Setup: it needs the Manage Users "
                             "permission (the System Administrator profile).", 403)

    def gate(handler: Callable[[Ctx], Response], login: bool = False
             ) -> Callable[[Request], Awaitable[Response]]:
        def guarded(request: Request, form: Form) -> Response:
            user = pages.sessions.user(request)
            if user is None:
                if request.method == "POST":
                    return pages.message(request, "Log in", "Log in to use Setup.", 403)
                return pages.redirect(request, LOGIN_PATH)
            if not is_admin(services, user):
                return forbidden(request, user)
            if request.method == "POST" and not pages.csrf_ok(request, flat(form)):
                return pages.csrf_failed(request)
            org = store.get_org(user.org_id)
            assert org is not None
            return handler(Ctx(request, form, user, org, services.directory.as_actor(
                Actor(user.id, "Setup"))))

        async def endpoint(request: Request) -> Response:
            form = await read_form(request)
            run = threads.login if login and request.method == "POST" else threads.run
            return await run(guarded, request, form)

        return endpoint

    def flat(form: Form) -> dict[str, str]:
        return {k: v[0] for k, v in form.items() if v}

    # login ------------------------------------------------------------------------------------

    def login_page(request: Request, form: Form) -> Response:
        if request.method == "GET":
            return pages.render(request, "login.html", {"action": LOGIN_PATH, "app_name": None,
                                                        "username": None})
        if not pages.csrf_ok(request, flat(form)):
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

    # home -------------------------------------------------------------------------------------

    def home(c: Ctx) -> Response:
        logins = services.audit.queries.logins(c.org.id, 0, limit=10)
        return render(c, "setup_home.html", {
            "my_domain_url": services.oauth.base_url, "api_version": f"{LATEST}.0",
            "counts": {"Users": len(store.list_users(c.org.id)),
                       "Connected apps": len(store.list_apps(c.org.id)),
                       "Profiles": len(store.list_profiles(c.org.id)),
                       "Permission sets": len(store.list_permission_sets(c.org.id))},
            "logins": [{"time": iso_ms(e.login_time_ms), "username": e.username,
                        "status": e.status, "type": e.login_type, "ip": e.source_ip}
                       for e in logins]})

    # App Manager ------------------------------------------------------------------------------

    def app_of(c: Ctx) -> ConnectedApp | None:
        found = store.get_app(c.request.path_params["app_id"])
        return found if found is not None and found.org_id == c.org.id else None

    def not_found(c: Ctx) -> Response:
        return pages.message(c.request, "Not found", "No such connected app.", 404)

    def apps(c: Ctx) -> Response:
        rows = []
        for app in sorted(store.list_apps(c.org.id), key=lambda a: a.name.lower()):
            usage = services.audit.queries.app_users(app.id, int(services.clock()))
            last = max((u.last_used_at for u in usage if u.last_used_at), default=None)
            rows.append({"app": app, "flows": flows(app),
                         "last_used": iso_ms(last * 1000) if last else ""})
        return render(c, "setup_apps.html", {"rows": rows})

    def edit_form(c: Ctx, app: ConnectedApp | None, values: dict[str, Any],
                  errors: dict[str, str], status: int = 200) -> Response:
        return render(c, "setup_app_edit.html", {
            "app": app, "v": values, "errors": errors, "scopes": SCOPE_LABELS.items(),
            "users": [u for u in store.list_users(c.org.id) if u.active],
            "profiles": store.list_profiles(c.org.id),
            "permission_sets": store.list_permission_sets(c.org.id),
            "permitted_choices": [(p.value, p.value.replace("_", " ")) for p in PermittedUsers],
            "relax_choices": [(r.value, r.value.replace("_", " ")) for r in IpRelaxation],
        }, status)

    def save(c: Ctx, app: ConnectedApp | None) -> Response:
        values = values_from_form(c.form)
        base = app or ConnectedApp(id=ids.new_id("0H4"), org_id=c.org.id, name="",
                                   consumer_key="")
        changed, errors = app_from_values(base, values)
        if not errors:
            try:
                if app is None:
                    secret = None if values["public"] else generate_consumer_secret()
                    changed = c.directory.create_app(changed, secret)
                else:
                    changed = c.directory.update_app(changed)
                return pages.redirect(c.request, f"/setup/apps/{changed.id}?done="
                                      + ("created" if app is None else "saved"))
            except DirectoryError as exc:
                errors[exc.field or "form"] = str(exc)
        return edit_form(c, app, values, errors, 400)

    def new_app(c: Ctx) -> Response:
        if c.request.method == "POST":
            return save(c, None)
        return edit_form(c, None, values_from_app(None), {})

    def edit_app(c: Ctx) -> Response:
        app = app_of(c)
        if app is None:
            return not_found(c)
        if c.request.method == "POST":
            return save(c, app)
        return edit_form(c, app, values_from_app(app), {})

    def view_app(c: Ctx, consumer: dict[str, str] | None = None, password_error: bool = False,
                 status: int = 200) -> Response:
        app = app_of(c)
        if app is None:
            return not_found(c)
        cert = None
        if app.certificate:
            try:
                cert = check_certificate(app.certificate)
            except DirectoryError:
                cert = None
        usage = services.audit.queries.app_users(app.id, int(services.clock()))
        profiles = {p.id: p.name for p in store.list_profiles(c.org.id)}
        run_as = store.get_user(app.run_as_user_id) if app.run_as_user_id else None
        return render(c, "setup_app.html", {
            "app": app, "cert": cert, "flows": flows(app), "consumer": consumer,
            "password_error": password_error, "run_as": run_as.username if run_as else None,
            "scope_labels": [(s, SCOPE_LABELS.get(s, s)) for s in app.scopes],
            "profiles": [profiles.get(i, i) for i in app.authorized_profile_ids],
            "notice": _NOTICES.get(c.request.query_params.get("done", "")),
            "usage": [{"user_id": u.user_id, "username": u.username or u.user_id,
                       "access": u.live_access_tokens, "refresh": u.live_refresh_tokens,
                       "last_used": iso_ms(u.last_used_at * 1000) if u.last_used_at else ""}
                      for u in usage]}, status)

    def consumer_details(c: Ctx) -> Response:
        """Salesforce's "Manage Consumer Details" verification: the admin's password again."""
        app = app_of(c)
        if app is None:
            return not_found(c)
        if not verify_password(store.get_credentials(c.user.id)[0], c.form.one("password")):
            return view_app(c, password_error=True, status=401)
        return view_app(c, consumer={"key": app.consumer_key,
                                     "secret": c.directory.reveal_secret(app) or ""})

    def rotate(c: Ctx) -> Response:
        app = app_of(c)
        if app is None:
            return not_found(c)
        if c.request.method == "GET":
            return render(c, "setup_confirm.html", {
                "title": f"Rotate the consumer secret of {app.name}?",
                "text": "Clients using the current secret stop working at once.",
                "action": f"/setup/apps/{app.id}/rotate", "button": "Rotate secret",
                "back": f"/setup/apps/{app.id}"})
        c.directory.rotate_secret(app)
        return pages.redirect(c.request, f"/setup/apps/{app.id}?done=rotated")

    def revoke(c: Ctx) -> Response:
        """Revoke the app's tokens of one user (``user_id``) or of every user holding some."""
        app = app_of(c)
        if app is None:
            return not_found(c)
        now = int(services.clock())
        holders = [u.user_id for u in services.audit.queries.app_users(app.id, now)]
        one = c.form.one("user_id")
        if one:
            holders = [h for h in holders if h == one]
        for holder in holders:
            services.oauth.tokens.revoke_for(holder, app.id, now)
        target = store.get_user(one) if one else None
        who = target.username if target is not None else "all users"
        c.directory.record(c.org.id, "revokedOauthTokens", audit.SECTION_APPS,
                           f"Revoked OAuth tokens of {who} for connected app {app.name}")
        return pages.redirect(c.request, f"/setup/apps/{app.id}?done=revoked")

    both = ["GET", "POST"]
    return [
        Route(LOGIN_PATH, login_route, methods=both),
        Route("/setup", gate(home)),
        Route("/setup/apps", gate(apps)),
        Route("/setup/apps/new", gate(new_app), methods=both),
        Route("/setup/apps/{app_id}", gate(view_app)),
        Route("/setup/apps/{app_id}/edit", gate(edit_app), methods=both),
        Route("/setup/apps/{app_id}/consumer", gate(consumer_details, login=True),
              methods=["POST"]),
        Route("/setup/apps/{app_id}/rotate", gate(rotate), methods=both),
        Route("/setup/apps/{app_id}/revoke", gate(revoke), methods=["POST"]),
    ]


def flows(app: ConnectedApp) -> list[str]:
    names = ["Web server"]
    if app.certificate:
        names.append("JWT bearer")
    if app.enable_client_credentials:
        names.append("Client credentials")
    if app.enable_implicit:
        names.append("User-agent")
    if app.enable_device_flow:
        names.append("Device")
    return names
