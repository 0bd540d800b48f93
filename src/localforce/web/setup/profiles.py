"""Profiles and permission sets: New Profile (cloned from an existing one) and New Permission
Set (label and API name); the object-permission matrix (read, create, edit, delete,
view all, modify all per object, standard and custom), API Enabled, the system permissions,
a profile's login IP ranges, and who holds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.directory.service import STANDARD_OBJECTS, STANDARD_USER, DirectoryError
from localforce.domain.models import (
    OBJECT_PERMISSIONS,
    IpRange,
    ObjectPermissions,
    PermissionSet,
    Profile,
)
from localforce.web.setup.console import Console, Ctx

_SYSTEM = (("api_enabled", "API Enabled"), ("view_all_data", "View All Data"),
           ("modify_all_data", "Modify All Data"), ("transfer_record", "Transfer Record"),
           ("bulk_api_hard_delete", "Bulk API Hard Delete"))
_NOTICES = {"saved": "Saved.", "created": "Created."}
_LABELS = {"read": "Read", "create": "Create", "edit": "Edit", "delete": "Delete",
           "view_all": "View All", "modify_all": "Modify All"}


def parse_ranges(text: str, field: str = "login_ip_ranges") -> tuple[IpRange, ...]:
    """``start-end`` (or one address) per line; raises ValueError naming the bad line."""
    ranges = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            ranges.append(IpRange.parse(line))
        except ValueError as exc:
            raise ValueError(f"{field}: {line.strip()!r}: {exc}") from None
    return tuple(ranges)


def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store

    def objects(c: Ctx) -> list[str]:
        """Standard business objects and the org's custom objects, then any others granted."""
        names = {o.name for o in services.data.schema_for(c.org.id) if o.kind == "records"
                 and (o.custom or o.name in STANDARD_OBJECTS)}
        return [*STANDARD_OBJECTS, *sorted(names - set(STANDARD_OBJECTS))]

    def listing(c: Ctx) -> Response:
        users = store.list_users(c.org.id)
        return console.render(c, "setup_profiles.html", {
            "profiles": [(p, sum(u.profile_id == p.id for u in users))
                         for p in store.list_profiles(c.org.id)],
            "permission_sets": [(p, sum(p.id in u.permission_set_ids for u in users))
                                for p in store.list_permission_sets(c.org.id)]})

    def item_of(c: Ctx) -> Profile | PermissionSet | None:
        item_id = c.param("item_id")
        found = store.get_profile(item_id) or store.get_permission_set(item_id)
        return found if found is not None and found.org_id == c.org.id else None

    def page(c: Ctx, item: Profile | PermissionSet, ranges: str | None = None,
             errors: dict[str, str] | None = None, status: int = 200) -> Response:
        is_profile = isinstance(item, Profile)
        holders = [u for u in store.list_users(c.org.id)
                   if (u.profile_id == item.id if is_profile else item.id in u.permission_set_ids)]
        if ranges is None and isinstance(item, Profile):
            ranges = "\n".join(f"{r.start}-{r.end}" for r in item.login_ip_ranges)
        return console.render(c, "setup_profile.html", {
            "item": item, "is_profile": is_profile, "objects": objects(c),
            "permissions": [(p, _LABELS[p]) for p in OBJECT_PERMISSIONS],
            "granted": {o: item.objects.grants.get(o, frozenset()) for o in objects(c)},
            "system": [(name, label, getattr(item, name)) for name, label in _SYSTEM],
            "ranges": ranges or "", "errors": errors or {}, "holders": holders,
            "notice": _NOTICES.get(c.request.query_params.get("done", ""))},
            status)

    def edit(c: Ctx) -> Response:
        item = item_of(c)
        if item is None:
            return console.not_found(c, "profile or permission set")
        if c.method == "GET":
            return page(c, item)
        grants: dict[str, frozenset[str]] = {}
        for name in objects(c):
            chosen = frozenset(p for p in OBJECT_PERMISSIONS if c.form.flag(f"{name}:{p}"))
            if chosen:
                grants[name] = chosen
        # Objects the matrix does not show (not in this schema) keep their rights.
        kept = {k: v for k, v in item.objects.grants.items() if k not in objects(c)}
        changes: dict[str, Any] = {name: c.form.flag(name) for name, _ in _SYSTEM}
        changes["objects"] = ObjectPermissions({**kept, **grants})
        ranges_text = c.form.one("login_ip_ranges")
        if isinstance(item, Profile):
            try:
                changes["login_ip_ranges"] = parse_ranges(ranges_text)
            except ValueError as exc:
                return page(c, item, ranges_text, {"login_ip_ranges": str(exc)}, 400)
        try:
            c.directory.save_access(replace(item, **changes))
        except DirectoryError as exc:
            return page(c, item, ranges_text, {exc.field or "form": str(exc)}, 400)
        return console.redirect(c, f"/setup/profiles/{item.id}?done=saved")

    def new_form(c: Ctx, kind: str, values: dict[str, str], errors: dict[str, str],
                 status: int = 200) -> Response:
        return console.render(c, "setup_profile_new.html", {
            "kind": kind, "v": values, "errors": errors,
            "profiles": store.list_profiles(c.org.id)}, status)

    def create(c: Ctx, kind: str, v: dict[str, str],
               make: Callable[[], Profile | PermissionSet]) -> Response:
        try:
            made = make()
        except DirectoryError as exc:
            return new_form(c, kind, v, {exc.field or "form": str(exc)}, 400)
        return console.redirect(c, f"/setup/profiles/{made.id}?done=created")

    def new_profile(c: Ctx) -> Response:
        """Setup's New Profile: an existing profile to clone and a name."""
        if c.method == "GET":
            standard = store.find_profile(c.org.id, STANDARD_USER)
            return new_form(c, "profile", {"name": "",
                                           "clone_of": standard.id if standard else ""}, {})
        v = {"name": c.form.one("name"), "clone_of": c.form.one("clone_of")}
        return create(c, "profile", v, lambda: c.directory.create_profile(
            c.org.id, v["name"], v["clone_of"]))

    def new_permission_set(c: Ctx) -> Response:
        """Setup's New Permission Set: a label and an API name (from the label if empty)."""
        if c.method == "GET":
            return new_form(c, "permission set", {"label": "", "api_name": ""}, {})
        v = {"label": c.form.one("label"), "api_name": c.form.one("api_name")}
        return create(c, "permission set", v, lambda: c.directory.create_permission_set(
            c.org.id, v["label"], v["api_name"]))

    both = ["GET", "POST"]
    return [Route("/setup/profiles", console.gate(listing)),
            Route("/setup/profiles/new", console.gate(new_profile), methods=both),
            Route("/setup/permission-sets/new", console.gate(new_permission_set), methods=both),
            Route("/setup/profiles/{item_id}", console.gate(edit), methods=both)]
