"""Control of a server started for tests: its clock, injected faults, snapshot and restore.

Only ``localforce serve`` run with ``LOCALFORCE_TEST_CONTROL_KEY`` (as the pytest plugin,
``localforce.testing``, runs it) builds this; any other server has no such routes (404). Every
control request must carry the key in ``X-Localforce-Test-Key``.

    POST /_localforce/test/clock     {"advance": seconds}          -> {"offset": s, "now": t}
    POST /_localforce/test/faults    {"kind", "times", "path", "method", "seconds"}
    DELETE /_localforce/test/faults
    POST /_localforce/test/snapshot  the database as it is now becomes the reset point
    POST /_localforce/test/reset     back to the snapshot: records, users, tokens, lockouts,
                                     usage; clock at offset 0, no faults, caches dropped

Faults answer the next ``times`` matching requests (``path`` prefix, default the data API) as
Salesforce would: ``REQUEST_LIMIT_EXCEEDED`` 403, ``SERVER_UNAVAILABLE`` 503 with
``Retry-After``, ``INVALID_SESSION_ID`` 401 for a live token; ``SLOW`` delays them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from localforce import caching
from localforce.bootstrap import Services
from localforce.data.errors import ApiError, InvalidSessionId, RequestLimitExceeded
from localforce.web.errors import api_error_response

PREFIX = "/_localforce/test/"
KEY_HEADER = b"x-localforce-test-key"


class OffsetClock:
    """``time.time()`` plus an offset tests move forward (never back: tokens would revive)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class ServerUnavailable(ApiError):
    error_code = "SERVER_UNAVAILABLE"
    status = 503


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: str = "/services/data"
    method: str | None = None
    seconds: float = 0.0

    def matches(self, scope: Scope) -> bool:
        return self.times > 0 and scope["path"].startswith(self.path) and (
            self.method is None or self.method.upper() == scope["method"])

    def error(self) -> ApiError | None:
        if self.kind == "REQUEST_LIMIT_EXCEEDED":
            return RequestLimitExceeded()
        if self.kind == "SERVER_UNAVAILABLE":
            return ServerUnavailable("Server temporarily unavailable. Please try again later.")
        if self.kind == "INVALID_SESSION_ID":
            return InvalidSessionId()
        return None


KINDS = ("REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "INVALID_SESSION_ID", "SLOW")


class Snapshots:
    """The SQLite database copied aside and back with SQLite's online backup: a reset costs a
    page copy, not a reseed."""

    def __init__(self, services: Services) -> None:
        self.services = services
        url = services.engine.url
        if url.get_backend_name() != "sqlite" or not url.database:
            raise RuntimeError("test snapshots need the SQLite store")
        self.path = Path(url.database).with_suffix(".snapshot")

    def take(self) -> None:
        self._flush()
        with sqlite3.connect(self.path) as target:
            self._raw().backup(target)
        target.close()

    def restore(self) -> None:
        # What is pending belongs to the state being thrown away: dropped, not written.
        self.services.audit.writer.discard()
        source = sqlite3.connect(self.path)
        try:
            source.backup(self._raw())
        finally:
            source.close()
        self.services.limits.discard()
        self.services.oauth.sessions.forget_all()
        caching.clear_all()

    def _flush(self) -> None:
        self.services.audit.writer.flush()
        self.services.limits.flush()

    def _raw(self) -> sqlite3.Connection:
        # One connection of the pool, kept for the server's life: the backup writes through it.
        # A test database need not survive a power cut: no fsync on the restore's commit.
        if not hasattr(self, "_connection"):
            self._connection = self.services.engine.raw_connection()
            driver = self._connection.driver_connection
            assert driver is not None  # a pool connection has its DB-API connection
            driver.execute("PRAGMA synchronous=OFF")
        return self._connection.driver_connection  # type: ignore[return-value]


class TestControl:
    __test__ = False  # not a pytest class

    def __init__(self, app: ASGIApp, services: Services, clock: OffsetClock, key: str) -> None:
        self.app = app
        self.services = services
        self.clock = clock
        self.key = key.encode()
        self.faults: list[Fault] = []
        self.snapshots = Snapshots(services)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].startswith(PREFIX):
            return await self._control(scope, receive, send)
        fault = self._take_fault(scope)
        if fault is not None:
            error = fault.error()
            if error is None:
                await asyncio.sleep(fault.seconds)
            else:
                response = api_error_response(error)
                if isinstance(error, ServerUnavailable):
                    response.headers["Retry-After"] = str(int(fault.seconds or 1))
                return await response(scope, receive, send)
        await self.app(scope, receive, send)

    def _take_fault(self, scope: Scope) -> Fault | None:
        if not self.faults:
            return None
        with self._lock:
            for fault in self.faults:
                if fault.matches(scope):
                    fault.times -= 1
                    return fault
        return None

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(KEY_HEADER, b"")
        if not hmac.compare_digest(given, self.key):
            return await _json(send, 403, {"error": "the test control key is missing or wrong"})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        args: dict[str, Any] = json.loads(body) if body else {}
        action, method = scope["path"][len(PREFIX):], scope["method"]
        if action == "clock" and method == "POST":
            self.clock.offset += max(0.0, float(args.get("advance", 0)))
            return await _json(send, 200, {"offset": self.clock.offset, "now": self.clock()})
        if action == "faults" and method == "POST":
            if args.get("kind") not in KINDS:
                return await _json(send, 400, {"error": f"kind is one of {', '.join(KINDS)}"})
            fault = Fault(str(args["kind"]), int(args.get("times", 1)),
                          str(args.get("path") or "/services/data"), args.get("method"),
                          float(args.get("seconds", 0)))
            with self._lock:
                self.faults.append(fault)
            return await _json(send, 200, {"faults": len(self.faults)})
        if action == "faults" and method == "DELETE":
            self.faults.clear()
            return await _json(send, 200, {"faults": 0})
        if action in ("snapshot", "reset") and method == "POST":
            started = time.perf_counter()
            if action == "reset":
                self.faults.clear()
                self.clock.offset = 0.0
            # Off the event loop: a backup holds the database for its few milliseconds.
            await asyncio.to_thread(self.snapshots.take if action == "snapshot"
                                    else self.snapshots.restore)
            return await _json(send, 200, {"ms": round((time.perf_counter() - started) * 1000,
                                                       2)})
        return await _json(send, 404, {"error": "no such test control"})


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})
