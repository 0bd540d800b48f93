"""The API usage log and data-API metrics: one entry per ``/services/data`` request.

Pure ASGI middleware: it times the request, reads the caller the data routes resolved
(``request.state.principal``) and hands an ``ApiCall`` to the background writer, which never
blocks the request (audit/writer.py). The path is logged without its query string.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localforce.audit.ports import ApiCall
from localforce.audit.services import Audit
from localforce.domain.principal import Principal

DATA_PREFIX = "/services/data/"
#: Where the data routes leave the authenticated caller.
PRINCIPAL_KEY = "principal"


class ApiUsageLog:
    def __init__(self, app: ASGIApp, audit: Audit, clock: object = time.time) -> None:
        self.app = app
        self.audit = audit
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(DATA_PREFIX):
            await self.app(scope, receive, send)
            return
        started, at_ms = time.perf_counter(), int(self.clock() * 1000)  # type: ignore[operator]
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self._record(scope, at_ms, status, time.perf_counter() - started)

    def _record(self, scope: Scope, at_ms: int, status: int, seconds: float) -> None:
        principal = (scope.get("state") or {}).get(PRINCIPAL_KEY)
        who = principal if isinstance(principal, Principal) else None
        self.audit.writer.submit(ApiCall(
            at_ms=at_ms, org_id=who.org_id if who else None, user_id=who.user_id if who else None,
            app_id=who.app_id if who else None, method=scope["method"], path=scope["path"],
            status=status, duration_us=int(seconds * 1_000_000)))
        self.audit.metrics.data_requests.labels(str(status)).inc()
