"""Login History (filter by user, status, date) and Setup Audit Trail: newest first by default,
50 rows a page, sortable by date, each downloadable as CSV (cells that a spreadsheet would
run as a formula are quoted with a leading ``'``, OWASP's CSV injection advice)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.audit.export import iso_ms
from localforce.web.routes.pages import PAGE_HEADERS
from localforce.web.setup.console import Console, Ctx, page_of

#: How many rows a page or a CSV reads at most.
MAX_ROWS = 10_000


def csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_response(name: str, header: Sequence[str], rows: list[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        **PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}.csv"'})


def paged(c: Ctx, rows: list[Any]) -> dict[str, Any]:
    """A page of dated ``rows`` (newest first unless ``order=asc``)."""
    ascending = c.request.query_params.get("order") == "asc"
    return {**page_of(c, rows[::-1] if ascending else rows),
            "order": "asc" if ascending else "desc"}


def routes(console: Console) -> list[BaseRoute]:
    services, store = console.services, console.store

    def logins(c: Ctx) -> Response:
        q = c.request.query_params
        username, status, since = (q.get("user", "").strip(), q.get("status", ""),
                                   q.get("since", ""))
        error = None
        since_ms = 0
        if since:
            try:
                since_ms = int(datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC)
                               .timestamp() * 1000)
            except ValueError:
                error = "since: use a date like 2026-12-01"
        events = services.audit.queries.logins(c.org.id, since_ms, username or None,
                                               limit=MAX_ROWS)
        if status == "success":
            events = [e for e in events if e.status == "Success"]
        elif status == "failed":
            events = [e for e in events if e.status != "Success"]
        if q.get("format") == "csv":
            return csv_response("LoginHistory", (
                "LoginTime", "Username", "Status", "LoginType", "SourceIp", "Application",
                "LoginUrl"), [(iso_ms(e.login_time_ms), e.username, e.status, e.login_type,
                               e.source_ip, e.application, e.login_url) for e in events])
        return console.render(c, "setup_logins.html", {
            **paged(c, events), "filters": {"user": username, "status": status, "since": since},
            "error": error, "query": c.request.url.query}, 400 if error else 200)

    def audit_trail(c: Ctx) -> Response:
        changes = store.list_setup_changes(c.org.id, limit=MAX_ROWS)
        names: dict[str | None, str] = {}
        for change in changes:
            if change.created_by_id not in names:
                user = store.get_user(change.created_by_id) if change.created_by_id else None
                names[change.created_by_id] = user.username if user else ""
        rows = [{"time": iso_ms(ch.created_date_ms), "user": names[ch.created_by_id],
                 "action": ch.action, "section": ch.section, "display": ch.display,
                 "context": ch.created_by_context or ""} for ch in changes]
        if c.request.query_params.get("format") == "csv":
            return csv_response("SetupAuditTrail", (
                "CreatedDate", "CreatedBy", "Action", "Section", "Display",
                "CreatedByContext"), [tuple(r.values()) for r in rows])
        return console.render(c, "setup_audit.html", {**paged(c, rows),
                                                      "query": c.request.url.query})

    return [Route("/setup/logins", console.gate(logins)),
            Route("/setup/audit", console.gate(audit_trail))]
