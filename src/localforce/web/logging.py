"""Structured logs: one JSON line per request, and never a secret.

``configure_logging()`` (called once per server process, web/asgi.py) routes structlog and the
standard library (uvicorn, Starlette, our ``logging`` calls) through the same redaction:

- values under secret-looking keys (password, secret, token, assertion, code, authorization,
  cookie, session…) are replaced by ``[REDACTED]``;
- anything shaped like a credential anywhere in a message is masked: Salesforce session ids
  (``00D…!…``), refresh tokens (``5Aep861…``), JWTs (``eyJ….….…``), ``Bearer``/``OAuth``
  header values, and ``key=value`` pairs of secret-named parameters.

Request lines carry the path without its query string (GET ``/services/oauth2/revoke?token=``
and ``/id/...?oauth_token=`` put tokens there). uvicorn's own access log is off
(``serve --no-access-log`` is implied) because it prints the query string.

A request's line, its latency and its API usage entry are booked together with those of the
other requests its event loop answered in the same 20 ms (``Books``): one at a time, the same
work cost far more CPU over HTTP (bench/README.md, eleventh pass).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, MutableMapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localforce.audit.metrics import Metrics
from localforce.web.apiusage import ApiUsage
from localforce.web.clientip import STATE_KEY

# structlog without Rich: ``import structlog`` always loads ``structlog.dev`` and
# ``structlog.tracebacks``, which import Rich's traceback renderer and pretty-printer (and with
# them Pygments, attrs and most of Rich) whenever Rich is installed (the CLI's tables need
# Rich), for exceptions rendered on a console or with their locals. The server logs JSON and
# renders neither, and ``localforce serve`` forks every worker from the process that imported
# this (bench/README.md, twenty-fifth pass). Hidden for that one import: Rich imports as
# usual afterwards, and structlog's renderers (unused here) fall back to plain tracebacks and
# ``repr``.
_HIDDEN = "rich"
_HIDING = _HIDDEN not in sys.modules
if _HIDING:
    sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # importing it: ImportError
try:
    import structlog
finally:
    if _HIDING and sys.modules.get(_HIDDEN, False) is None:
        del sys.modules[_HIDDEN]

REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|assertion|^code$|_code$|authorization|cookie|session|signature"
    r"|private|verifier|otp", re.I)
#: Every credential shape, as one alternation: one pass over each logged string (the access log
#: masks every request's path).
_CREDENTIAL = re.compile("|".join((
    r"00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]+",  # access tokens / session ids
    r"5Aep861[A-Za-z0-9._\-]+",  # refresh tokens
    r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*",  # JWTs
    r"(?i:\b(?:bearer|oauth)\s+[^\s,;\"']+)",
    r"(?i:\b(?:(?:client_)?secret|password|(?:refresh_|access_|device_)?token|assertion"
    r"|code(?:_verifier)?|sessionId)=[^&\s\"']+)",
)))


def mask(text: str) -> str:
    """Mask every credential-shaped substring."""
    if not _may_hold_credential(text):
        return text
    return _CREDENTIAL.sub(_masked, text)


def _may_hold_credential(text: str) -> bool:
    """False only for text none of ``_CREDENTIAL``'s shapes can match: each needs ``00D``,
    ``5Aep861``, ``eyJ``, ``=`` or whitespace (``\\s``: a space, or a character that is not
    printable). A request path usually has none, and the check costs far less than the
    regex (bench/README.md)."""
    return ("=" in text or " " in text or "00D" in text or "5Aep861" in text or "eyJ" in text
            or not text.isprintable())


def _masked(match: re.Match[str]) -> str:
    return match.group(0)[:3] + "…" + REDACTED


@functools.lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    return key != "event" and _SECRET_KEY.search(key) is not None


def redact(_logger: object, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: secret-named keys dropped, credential-shaped values masked."""
    for key, value in list(event.items()):
        if _secret_key(key):
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = mask(value)
    return event


class _RedactingFilter(logging.Filter):
    """The same masking for standard-library records (uvicorn, tracebacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = mask(message), None
        return True


def _json_line(event: Any, **_: Any) -> str:
    """A log line's JSON (orjson: faster than the standard library, bench/README.md);
    anything it cannot encode is logged as its ``str``."""
    return orjson.dumps(event, default=str).decode()


#: Where ``access_line`` writes, once ``configure_logging`` has said (None: through structlog).
_access_out: Any = None
_access_lock = threading.Lock()
#: Lines written on an event loop and not yet flushed: written together once the loop's
#: current pass has run (``write_pending``), one write and flush per pass instead of one
#: per request (a system call each: most of an access line's cost, bench/README.md).
_pending: list[str] = []


def access_line(fields: dict[str, Any]) -> None:
    """One request's line, as ``structlog``'s ``info("request", **fields)`` writes it with the
    processors below (no context variables are bound in this code base): the same redaction,
    keys, order and timestamp, without the processor chain (a fifth of a ``/query``'s CPU in
    process). tests/unit/audit/test_redaction.py holds the two to the same line."""
    access_lines([fields])


def access_lines(batch: list[dict[str, Any]]) -> None:
    """``access_line`` of each, in order: on an event loop asked for once (each ask of
    ``asyncio.get_running_loop`` is a ``getpid`` system call in CPython 3.11)."""
    out = _access_out
    if out is None:
        logger = structlog.get_logger("localforce.access")
        for fields in batch:
            logger.info("request", **fields)
        return
    lines = []
    for fields in batch:
        # ``redact`` of the request's own fields only: the three added after them (a constant
        # event and level, a timestamp of digits) can hold no credential.
        event = {key: REDACTED if _secret_key(key) else mask(value) if isinstance(value, str)
                 else value for key, value in fields.items()}  # ``redact``, made in one pass
        event["event"], event["level"], event["timestamp"] = "request", "info", _utc_now_iso()
        lines.append(_json_line(event) + "\n")
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on an event loop: at once
        with _access_lock:
            out.write("".join(lines))
            out.flush()
        return
    with _access_lock:
        first = not _pending
        _pending.extend(lines)
    if first:
        loop.call_soon(write_pending)


def write_pending() -> None:
    """The lines of one event-loop pass, in the order they were made."""
    with _access_lock:
        lines = "".join(_pending)
        _pending.clear()
        if lines and _access_out is not None:
            _access_out.write(lines)
            _access_out.flush()


#: ``_utc_now_iso``'s text of the current second, and that second.
_second: tuple[int, str] = (-1, "")


def _utc_now_iso() -> str:
    """structlog's ``TimeStamper(fmt="iso", utc=True)`` (``datetime.now(UTC).isoformat()``
    with ``Z``: microseconds when not zero), the date and time formatted once a second."""
    global _second
    sec, micros = divmod(time.time_ns() // 1000, 1_000_000)
    if _second[0] != sec:
        _second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
    return f"{_second[1]}.{micros:06d}Z" if micros else _second[1] + "Z"


def configure_logging(level: int = logging.INFO, stream: Any = None) -> None:
    """Process-wide; idempotent."""
    global _access_out
    out = stream or sys.stderr
    write_pending()  # what is pending goes where it was meant to
    _access_out = out
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), redact,
                    structlog.processors.JSONRenderer(serializer=_json_line)],
        logger_factory=structlog.PrintLoggerFactory(out),
        # Bind each logger once: a lazy proxy otherwise re-binds on every call (bench/README.md).
        cache_logger_on_first_use=True)
    handler = logging.StreamHandler(out)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # The servers' own loggers too: granian's (``_granian``) reports an application's
    # exception with its traceback, which must pass the same redaction.
    for name in ("", "uvicorn", "uvicorn.error", "_granian"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level)
    # uvicorn logs access lines whenever this logger has a handler; ours replaces it (and
    # granian's, off in web/servers.py).
    for name in ("uvicorn.access", "granian.access"):
        access = logging.getLogger(name)
        access.handlers, access.propagate, access.disabled = [], False, True


def surface(path: str) -> str:
    """A bounded label for metrics: which part of the server served the request."""
    for prefix, name in (("/services/data", "data"), ("/services/oauth2", "oauth"),
                         ("/services/Soap", "soap"), ("/id/", "identity"),
                         ("/metrics", "metrics"), ("/healthz", "health")):
        if path.startswith(prefix):
            return name
    return "pages"


#: An event loop's answered requests are booked (access line, latency, API usage entry)
#: together, ``BOOK_AFTER`` seconds after the first of them, or at once when ``BOOK_BATCH`` wait.
#: Booked one by one as each was answered, the same work cost a fifth of a ``/query``'s CPU
#: more over HTTP (bench/README.md, eleventh pass), far more than it costs in a tight loop.
BOOK_AFTER = 0.02
BOOK_BATCH = 256

#: What ``Books`` holds of a request: its scope, usage-log arrival (epoch ms), status, seconds.
_Entry = tuple[Scope, int | None, int, float]


class Books:
    """Every answered request's access line, latency and (data API) usage entry, written a
    moment later in batches. Off an event loop (a test calling in a thread) at once.

    A feeder of the API usage log's writer (audit/writer.py): its ``flush`` books what is held
    here first, and its ``discard`` (a test org reset) writes the held lines and latencies but
    drops their usage entries. A worker stopping flushes it in the app's lifespan."""

    def __init__(self, metrics: Metrics, usage: ApiUsage | None = None) -> None:
        self.metrics, self.usage = metrics, usage
        self._held: list[_Entry] = []
        self._lock = threading.Lock()
        #: The loop a ``flush`` is scheduled on (a loop that ended never runs it: then the
        #: next request on another loop schedules one there).
        self._scheduled_on: asyncio.AbstractEventLoop | None = None
        if usage is not None:
            usage.audit.writer.fed_by(self)
        _BOOKS.add(self)

    def add(self, scope: Scope, usage_at_ms: int | None, status: int, seconds: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            access_lines(self._book([(scope, usage_at_ms, status, seconds)], usage=True))
            return
        with self._lock:
            self._held.append((scope, usage_at_ms, status, seconds))
            full = len(self._held) >= BOOK_BATCH
            schedule = not full and self._scheduled_on is not loop
            if schedule:
                self._scheduled_on = loop
        if full:
            self.flush()
        elif schedule:
            loop.call_later(BOOK_AFTER, self._due)

    def _due(self) -> None:
        with self._lock:
            self._scheduled_on = None
        self.flush()

    def flush(self) -> None:
        """Book everything held, in the order the requests were answered."""
        self._take(usage=True)

    def drop(self) -> None:
        """Book everything held without its usage entries."""
        self._take(usage=False)

    def _take(self, usage: bool) -> None:
        with self._lock:
            held, self._held = self._held, []
        if held:
            access_lines(self._book(held, usage))

    def _book(self, held: list[_Entry], usage: bool) -> list[dict[str, Any]]:
        """The requests' latencies and (``usage``) usage entries; their access lines' fields
        are returned."""
        if usage and self.usage is not None:
            self.usage.record_all([(scope, at_ms, status, seconds)
                                   for scope, at_ms, status, seconds in held if at_ms is not None])
        lines: list[dict[str, Any]] = []
        latencies: dict[str, list[float]] = {}
        for scope, _at_ms, status, seconds in held:
            latencies.setdefault(surface(scope["path"]), []).append(seconds)
            lines.append({"method": scope["method"], "path": scope["path"], "status": status,
                          "duration_ms": round(seconds * 1000, 2),
                          "client_ip": (scope.get("state") or {}).get(STATE_KEY)})
        for name, seconds_each in latencies.items():
            self.metrics.observe_all(self.metrics.latency, name, seconds_each)
        return lines


#: Every ``Books`` of this process: what they hold is booked at exit (the lines and latencies;
#: the usage log's writer is not flushed then, so its entries could not be written).
_BOOKS: weakref.WeakSet[Books] = weakref.WeakSet()


def _at_exit() -> None:
    for books in list(_BOOKS):
        books.drop()
    write_pending()


atexit.register(_at_exit)


class AccessLog:
    """One line per request: method, path (no query), status, duration, client IP; and, for
    data-API requests, the API usage log entry (``usage``), timed by the same observation and
    booked by ``books``."""

    def __init__(self, app: ASGIApp, books: Books,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.books = books
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        (started, usage_at_ms), status = self.started(scope), 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self.done(scope, started, usage_at_ms, status)

    def started(self, scope: Scope) -> tuple[float, int | None]:
        """When a request arrived: the timer's start and the usage log's epoch ms."""
        usage = self.books.usage
        return self.clock(), usage.started(scope) if usage else None

    def done(self, scope: Scope, started: float, usage_at_ms: int | None, status: int) -> None:
        """The request's line, latency and (data API) usage entry, once it has been answered."""
        self.books.add(scope, usage_at_ms, status, self.clock() - started)
