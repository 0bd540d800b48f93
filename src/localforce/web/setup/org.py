"""Org settings (the username-password flow; Password Policies: lockout attempts and period;
Session Settings: the session timeout; the API request allocation; Network Access: trusted IP
ranges; org-wide sharing defaults) and API usage (the last 24 hours against the allocation, per
app and per user, as ``<meter>`` bars: no script, no inline style)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.directory.service import STANDARD_OBJECTS, DirectoryError, check_policies
from localforce.domain.models import (
    LOCKOUT_ATTEMPTS,
    LOCKOUT_MINUTES,
    SESSION_TIMEOUTS,
    SHARING_LEVELS,
    OrgPolicies,
)
from localforce.web.setup.console import Console, Ctx, Form
from localforce.web.setup.profiles import parse_ranges

DAY_MS = 24 * 60 * 60 * 1000


_POLICY_INTS = ("lockout_attempts", "lockout_minutes", "session_timeout_minutes",
                "daily_api_requests")


def _minutes_label(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours > 1 else "")
    return f"{minutes} minutes"


def choices(allowed: tuple[int, ...], current: int | None, label: Callable[[int], str]
            ) -> list[tuple[str, str]]:
    """A select's options; a server setting outside Salesforce's choices is shown too."""
    values = list(allowed)
    if current is not None and current not in values:
        values.append(current)
    return [(str(v), label(v) + ("" if v in allowed else " (server setting)")) for v in values]


def policy_values(policies: OrgPolicies) -> dict[str, str]:
    return {**{k: str(getattr(policies, k)) for k in _POLICY_INTS},
            "trusted_ip_ranges": "\n".join(f"{r.start}-{r.end}"
                                           for r in policies.trusted_ip_ranges)}


def policy_changes_of(form: Form, in_force: OrgPolicies
                      ) -> tuple[dict[str, Any], dict[str, str]]:
    """The org settings the form changes (against those in force), and the fields that do
    not parse or break a rule (the directory's: ``check_policies``)."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in _POLICY_INTS:
        if name not in form:
            continue  # a form without the field leaves it as it is
        text = form.one(name).strip()
        try:
            value = int(text)
        except ValueError:
            errors[name] = f"{name}: must be a whole number"
            continue
        if value != getattr(in_force, name):
            changes[name] = value
    try:
        ranges = parse_ranges(form.one("trusted_ip_ranges"), "trusted_ip_ranges")
    except ValueError as exc:
        errors["trusted_ip_ranges"] = str(exc)
    else:
        if "trusted_ip_ranges" in form and ranges != in_force.trusted_ip_ranges:
            changes["trusted_ip_ranges"] = ranges
    for name in _POLICY_INTS:  # each rule on its own: every bad field gets its message
        if name in changes:
            try:
                check_policies(OrgPolicies(**{name: changes[name]}))
            except DirectoryError as exc:
                errors[name] = str(exc)
    return changes, errors


def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store
    settings = services.settings

    def sharing_objects(c: Ctx) -> list[str]:
        custom = sorted(o.name for o in services.data.schema_for(c.org.id)
                        if o.kind == "records" and o.custom)
        return [*STANDARD_OBJECTS, *custom]

    def org_page(c: Ctx, error: str | None = None, status: int = 200,
                 values: dict[str, str] | None = None, errors: dict[str, str] | None = None
                 ) -> Response:
        in_force = c.directory.policies(c.org.id)
        v = values or policy_values(in_force)

        def current(name: str) -> int | None:
            try:
                return int(v[name])
            except ValueError:
                return None

        return console.render(c, "setup_org.html", {
            "sharing": [(o, c.org.sharing.level(o)) for o in sharing_objects(c)],
            "levels": SHARING_LEVELS, "error": error, "v": v, "errors": errors or {},
            "attempts": choices(LOCKOUT_ATTEMPTS, current("lockout_attempts"),
                                lambda n: str(n) if n else "No limit"),
            "periods": choices(LOCKOUT_MINUTES, current("lockout_minutes"),
                               lambda n: _minutes_label(n) if n else "Forever (until an "
                               "admin unlocks)"),
            "timeouts": choices(SESSION_TIMEOUTS, current("session_timeout_minutes"),
                                _minutes_label),
            "own": {k: getattr(c.org.policies, k) is not None for k in _POLICY_INTS},
            "notice": "Saved." if c.request.query_params.get("done") == "saved" else None,
            "server": [("Trusted proxies", ", ".join(settings.trusted_proxies) or "none")]},
            status)

    def org_settings(c: Ctx) -> Response:
        if c.method == "GET":
            return org_page(c)
        in_force = c.directory.policies(c.org.id)
        changes, errors = policy_changes_of(c.form, in_force)
        if errors:
            values = {**policy_values(in_force),
                      **{k: c.form.one(k) for k in (*_POLICY_INTS, "trusted_ip_ranges")}}
            return org_page(c, None, 400, values, errors)
        org = c.directory.set_username_password_flow(
            c.org, c.form.flag("username_password_flow"))
        try:
            for name in sharing_objects(c):
                level = c.form.one(f"sharing:{name}")
                if level and level != org.sharing.level(name):
                    org = c.directory.set_sharing(org, name, level)
            c.directory.set_policies(org, **changes)
        except DirectoryError as exc:
            return org_page(c, str(exc), 400)
        return console.redirect(c, "/setup/org?done=saved")

    def api_usage(c: Ctx) -> Response:
        now_ms = int(services.clock() * 1000)
        by_app: Counter[str | None] = Counter()
        by_user: Counter[str | None] = Counter()
        for call in services.audit.calls.calls(now_ms - DAY_MS, c.org.id):
            by_app[call.app_id] += 1
            by_user[call.user_id] += 1
        total, allocation = sum(by_app.values()), c.directory.api_allocation(c.org.id)

        def named(counts: Counter[str | None], name: Callable[[str], str]
                  ) -> list[tuple[str, int]]:
            return [(name(key) if key else "(none)", n) for key, n in counts.most_common(50)]

        def app_name(app_id: str) -> str:
            app = store.get_app(app_id)
            return app.name if app else app_id

        def username(user_id: str) -> str:
            user = store.get_user(user_id)
            return user.username if user else user_id

        return console.render(c, "setup_api_usage.html", {
            "total": total, "allocation": allocation,
            "apps": named(by_app, app_name), "users": named(by_user, username)})

    return [Route("/setup/org", console.gate(org_settings), methods=["GET", "POST"]),
            Route("/setup/api-usage", console.gate(api_usage))]
