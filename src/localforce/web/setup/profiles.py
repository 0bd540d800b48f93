"""Profiles and permission sets: the object-permission matrix (read, create, edit, delete,
view all, modify all per object, standard and custom), API Enabled, the system permissions,
a profile's login IP ranges, and who holds it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.directory.service import STANDARD_OBJECTS, DirectoryError
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
            "notice": "Saved." if c.request.query_params.get("done") == "saved" else None},
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

    return [Route("/setup/profiles", console.gate(listing)),
            Route("/setup/profiles/{item_id}", console.gate(edit), methods=["GET", "POST"])]
