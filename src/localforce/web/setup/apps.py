"""App Manager: connected apps, their policies and certificate, consumer details (behind the
admin's password), secret rotation, OAuth usage and revocation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.audit.export import iso_ms
from localforce.directory.service import (
    DirectoryError,
    check_certificate,
    generate_consumer_secret,
)
from localforce.domain import ids
from localforce.domain.models import (
    ConnectedApp,
    IpRelaxation,
    PermittedUsers,
    RefreshTokenPolicy,
)
from localforce.domain.scopes import SCOPE_LABELS
from localforce.security.passwords import verify_password
from localforce.web.setup.console import Console, Ctx, Form, page_of

_FLAGS = ("require_pkce", "require_secret_web_server", "require_secret_refresh",
          "enable_implicit", "enable_device_flow", "enable_client_credentials",
          "rotate_refresh_tokens", "require_par", "require_dpop",
          "require_private_key_jwt", "allow_token_exchange", "jwt_access_tokens")
_NOTICES = {"created": "Connected app created.", "saved": "Connected app saved.",
            "rotated": "Consumer secret rotated: the old one no longer works.",
            "revoked": "OAuth tokens revoked."}


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
        "session_timeout_minutes": str(app.session_timeout_minutes or ""),
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
        "session_timeout_minutes": form.one("session_timeout_minutes").strip(),
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

    timeout = parse("session_timeout_minutes", lambda text: int(text) if text else None, None,
                    "must be a whole number of minutes, or empty for the org's timeout")
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

def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store
    render = console.render

    # App Manager ------------------------------------------------------------------------------

    def app_of(c: Ctx) -> ConnectedApp | None:
        found = store.get_app(c.request.path_params["app_id"])
        return found if found is not None and found.org_id == c.org.id else None

    def not_found(c: Ctx) -> Response:
        return console.not_found(c, "connected app")

    def apps(c: Ctx) -> Response:
        rows = []
        listed = page_of(c, sorted(store.list_apps(c.org.id), key=lambda a: a.name.lower()))
        for app in listed["rows"]:
            usage = services.audit.queries.app_users(app.id, int(services.clock()))
            last = max((u.last_used_at for u in usage if u.last_used_at), default=None)
            rows.append({"app": app, "flows": flows(app),
                         "last_used": iso_ms(last * 1000) if last else ""})
        return render(c, "setup_apps.html", {**listed, "rows": rows})

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
                return console.redirect(c, f"/setup/apps/{changed.id}?done="
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
            "org_timeout": c.directory.session_seconds(c.org.id) // 60,
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
        return console.redirect(c, f"/setup/apps/{app.id}?done=rotated")

    def revoke(c: Ctx) -> Response:
        """Revoke the app's tokens of one user (``user_id``) or of every user holding some."""
        app = app_of(c)
        if app is None:
            return not_found(c)
        one = c.form.one("user_id")
        target = store.get_user(one) if one else None
        if one and (target is None or target.org_id != c.org.id):
            return console.not_found(c, "user")
        console.revoke_tokens(c, app, target)
        return console.redirect(c, f"/setup/apps/{app.id}?done=revoked")

    both = ["GET", "POST"]
    gate = console.gate
    return [
        Route("/setup/apps", gate(apps)),
        Route("/setup/apps/new", gate(new_app), methods=both),
        Route("/setup/apps/{app_id}", gate(view_app)),
        Route("/setup/apps/{app_id}/edit", gate(edit_app), methods=both),
        Route("/setup/apps/{app_id}/consumer", gate(consumer_details, login=True),
              methods=["POST"]),
        Route("/setup/apps/{app_id}/rotate", gate(rotate), methods=both),
        Route("/setup/apps/{app_id}/revoke", gate(revoke), methods=["POST"]),
    ]
