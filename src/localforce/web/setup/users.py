"""Users: list, new, edit; reset or set the password, reset the security token, unlock,
activate and deactivate; permission set assignments; the user's logins and OAuth tokens.

A generated password or security token is shown once, as the answer to the POST that made it
(``no-store``, never in a URL); every other change answers 303."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.audit.export import iso_ms
from localforce.directory.service import AlreadyAssigned, DirectoryError
from localforce.domain.models import User
from localforce.web.setup.console import Console, Ctx, page_of

_NOTICES = {"created": "User created.", "saved": "User saved.", "unlocked": "User unlocked.",
            "activated": "User activated.", "deactivated": "User deactivated.",
            "password": "Password changed.", "assigned": "Permission set assigned.",
            "unassigned": "Permission set unassigned.", "revoked": "OAuth tokens revoked."}
_FIELDS = ("first_name", "last_name", "email", "username", "profile")


def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store
    render = console.render

    def user_of(c: Ctx) -> User | None:
        found = store.get_user(c.param("user_id"))
        return found if found is not None and found.org_id == c.org.id else None

    def locked(user: User) -> bool:
        return user.locked_until is not None and user.locked_until > datetime.fromtimestamp(
            services.clock(), UTC)

    def profile_names(c: Ctx) -> dict[str, str]:
        return {p.id: p.name for p in store.list_profiles(c.org.id)}

    def users(c: Ctx) -> Response:
        names = profile_names(c)
        rows = [{"user": u, "profile": names.get(u.profile_id, ""), "locked": locked(u)}
                for u in sorted(store.list_users(c.org.id), key=lambda u: u.username)]
        return render(c, "setup_users.html", page_of(c, rows))

    def edit_form(c: Ctx, user: User | None, values: dict[str, str], errors: dict[str, str],
                  status: int = 200) -> Response:
        return render(c, "setup_user_edit.html", {
            "user": user, "v": values, "errors": errors,
            "profiles": [p.name for p in store.list_profiles(c.org.id)]}, status)

    def values_of(c: Ctx, user: User | None) -> dict[str, str]:
        if user is None:
            return {f: "" for f in _FIELDS} | {"profile": "Standard User"}
        return {"first_name": user.first_name or "", "last_name": user.last_name,
                "email": user.email, "username": user.username,
                "profile": profile_names(c).get(user.profile_id, "")}

    def new_user(c: Ctx) -> Response:
        if c.method == "GET":
            return edit_form(c, None, values_of(c, None), {})
        v = {f: c.form.one(f).strip() for f in _FIELDS}
        errors: dict[str, str] = {}
        if "@" not in v["username"]:
            errors["username"] = "username: must look like an email address"
        if not v["last_name"]:
            errors["last_name"] = "last_name: required"
        if not errors:
            try:
                user, _token = c.directory.create_user(
                    c.org.id, v["username"], c.form.one("password") or None, v["profile"],
                    email=v["email"] or None, first_name=v["first_name"] or None,
                    last_name=v["last_name"])
                return console.redirect(c, f"/setup/users/{user.id}?done=created")
            except DirectoryError as exc:
                errors[exc.field or "form"] = str(exc)
        return edit_form(c, None, v, errors, 400)

    def edit_user(c: Ctx) -> Response:
        user = user_of(c)
        if user is None:
            return console.not_found(c, "user")
        if c.method == "GET":
            return edit_form(c, user, values_of(c, user), {})
        v = {f: c.form.one(f).strip() for f in _FIELDS}
        try:
            c.directory.update_user(user, **v)
        except DirectoryError as exc:
            return edit_form(c, user, v, {exc.field or "form": str(exc)}, 400)
        return console.redirect(c, f"/setup/users/{user.id}?done=saved")

    def view_user(c: Ctx, shown: dict[str, str] | None = None, error: str | None = None,
                  status: int = 200) -> Response:
        user = user_of(c)
        if user is None:
            return console.not_found(c, "user")
        perm_sets = store.list_permission_sets(c.org.id)
        now = int(services.clock())
        tokens = []
        for app in store.list_apps(c.org.id):
            for holder in services.audit.queries.app_users(app.id, now):
                if holder.user_id == user.id:
                    tokens.append({"app": app, "access": holder.live_access_tokens,
                                   "refresh": holder.live_refresh_tokens,
                                   "last_used": iso_ms(holder.last_used_at * 1000)
                                   if holder.last_used_at else ""})
        logins = services.audit.queries.logins(c.org.id, 0, username=user.username, limit=50)
        return render(c, "setup_user.html", {
            "user": user, "profile": profile_names(c).get(user.profile_id, ""),
            "locked": locked(user), "shown": shown, "error": error,
            "notice": _NOTICES.get(c.request.query_params.get("done", "")),
            "assigned": [p for p in perm_sets if p.id in user.permission_set_ids],
            "assignable": [p for p in perm_sets if p.id not in user.permission_set_ids],
            "tokens": tokens, "logins": logins, "self": user.id == c.user.id}, status)

    def action(c: Ctx) -> Response:
        """The user page's buttons, one POST each, named by the path's last segment."""
        user = user_of(c)
        if user is None:
            return console.not_found(c, "user")
        what, d = c.param("action"), c.directory
        done = what
        try:
            if what == "reset-password":
                return view_user(c, shown={"New password": d.reset_password(user)})
            if what == "reset-token":
                return view_user(c, shown={"New security token": d.reset_security_token(user)})
            if what == "password":
                password = c.form.one("new_password")
                if len(password) < 8:
                    return view_user(c, error="The new password needs at least 8 characters.",
                                     status=400)
                d.set_password(user, password)
            elif what == "unlock":
                d.unlock(user)
                done = "unlocked"
            elif what == "active":
                active = c.form.one("active") == "1"
                d.set_active(user, active)
                done = "activated" if active else "deactivated"
            elif what in ("assign", "unassign"):
                ps = store.get_permission_set(c.form.one("permission_set_id"))
                if ps is None or ps.org_id != c.org.id:
                    return console.not_found(c, "permission set")
                if what == "assign":
                    d.assign_permission_set(user.id, ps.id)
                else:
                    assignment = store.find_assignment(user.id, ps.id)
                    if assignment is not None:
                        d.unassign_permission_set(assignment)
                done += "ed"
            elif what == "revoke":
                app = store.get_app(c.form.one("app_id"))
                if app is None or app.org_id != c.org.id:
                    return console.not_found(c, "connected app")
                console.revoke_tokens(c, app, user)
                done = "revoked"
            else:
                return console.not_found(c, "action")
        except AlreadyAssigned:
            done = "assigned"
        except DirectoryError as exc:
            return view_user(c, error=str(exc), status=400)
        return console.redirect(c, f"/setup/users/{user.id}?done={done}")

    gate, both = console.gate, ["GET", "POST"]
    return [
        Route("/setup/users", gate(users)),
        Route("/setup/users/new", gate(new_user, login=True), methods=both),
        Route("/setup/users/{user_id}", gate(view_user)),
        Route("/setup/users/{user_id}/edit", gate(edit_user), methods=both),
        Route("/setup/users/{user_id}/{action}", gate(action, login=True), methods=["POST"]),
    ]
