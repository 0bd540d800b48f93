"""Org settings (the username-password flow, org-wide sharing defaults; the server's own
settings shown read-only) and API usage (the last 24 hours against the allocation, per app and
per user, as ``<meter>`` bars: no script, no inline style)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.directory.service import STANDARD_OBJECTS, DirectoryError
from localforce.domain.models import SHARING_LEVELS
from localforce.web.sessions import LIFETIME
from localforce.web.setup.console import Console, Ctx

DAY_MS = 24 * 60 * 60 * 1000


def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store
    settings = services.settings

    def sharing_objects(c: Ctx) -> list[str]:
        custom = sorted(o.name for o in services.data.schema_for(c.org.id)
                        if o.kind == "records" and o.custom)
        return [*STANDARD_OBJECTS, *custom]

    def org_page(c: Ctx, error: str | None = None, status: int = 200) -> Response:
        return console.render(c, "setup_org.html", {
            "sharing": [(o, c.org.sharing.level(o)) for o in sharing_objects(c)],
            "levels": SHARING_LEVELS, "error": error,
            "notice": "Saved." if c.request.query_params.get("done") == "saved" else None,
            "server": [("Lockout after failed logins", settings.lockout_attempts),
                       ("Lockout duration (minutes)", settings.lockout_minutes),
                       ("Browser session timeout (minutes)", LIFETIME // 60),
                       ("API requests per 24 hours", settings.daily_api_requests),
                       ("Trusted proxies", ", ".join(settings.trusted_proxies) or "none")]},
            status)

    def org_settings(c: Ctx) -> Response:
        if c.method == "GET":
            return org_page(c)
        org = c.directory.set_username_password_flow(
            c.org, c.form.flag("username_password_flow"))
        try:
            for name in sharing_objects(c):
                level = c.form.one(f"sharing:{name}")
                if level and level != org.sharing.level(name):
                    org = c.directory.set_sharing(org, name, level)
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
        total, allocation = sum(by_app.values()), settings.daily_api_requests

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
