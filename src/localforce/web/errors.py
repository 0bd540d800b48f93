"""THE wire mapping of errors, one renderer per surface.

- ``ApiError`` -> Salesforce's list ``[{"message","errorCode","fields"?}]`` with its status.
- ``OAuthError`` -> ``{"error","error_description"}`` with ``Cache-Control: no-store``.
- anything unexpected on ``/services/data`` -> ``UNKNOWN_EXCEPTION``, never a stack trace.
- an HTTP error (405, 404) on an OAuth path -> ``invalid_request`` with its status.
- the database unreachable -> 503 with ``Retry-After``: ``SERVER_UNAVAILABLE`` on the data API,
  ``temporarily_unavailable`` on OAuth endpoints (issue #15); the next request tries again.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import sys
from html import escape
from typing import Any

from sqlalchemy import exc as sql_errors
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from localforce.data.errors import ApiError, HttpsRequiredForApi, MethodNotAllowed, NotFound
from localforce.data.values import FloatFree
from localforce.oauth.errors import InvalidRequest, OAuthError, RateLimitExceeded

try:
    import orjson
except ImportError:  # a venv made before orjson was a dependency: the standard library only
    orjson = None  # type: ignore[assignment]

log = logging.getLogger("localforce.web")

#: Salesforce's Content-Type for JSON; jsforce only parses ``^application/json(;|$)``.
JSON_TYPE = "application/json;charset=UTF-8"

NO_STORE = {
    "Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
}


def json_bytes(content: object) -> bytes:
    """The one JSON encoding of every answer: byte for byte JSONResponse's (compact, UTF-8,
    no NaN), by orjson (far faster: bench/README.md) where its output is the
    same, by the standard library where it might not be (floats orjson may spell otherwise,
    more than 64-bit integers, non-string keys, lone surrogates: orjson refuses the last three).
    One difference is left: a NaN or infinity (which the data layer never stores,
    data/values.py) would be ``null`` here where the standard library raises. An answer the
    data layer made ``FloatFree`` is not walked for floats."""
    if orjson is not None and (type(content) is FloatFree or _same_floats(content)):
        try:
            return orjson.dumps(content)
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


def _same_floats(content: object) -> bool:
    """Whether every float in ``content`` is one orjson spells as ``float.__repr__`` does:
    positional between 1e-4 and 1e15 (0 too). Outside, the two may differ (``1e-05`` /
    ``0.00001``, ``1e+16`` / ``1e16``), and the caller takes the standard library. Walking the
    values costs a third of searching the encoded text for such numbers (which it replaces:
    a 2,000-row query's answer 1.7 ms against 3.7)."""
    if isinstance(content, float):
        return _plain_float(content)
    if not isinstance(content, (dict, list, tuple)):
        return True
    stack: list[Any] = [content]
    while stack:
        value = stack.pop()
        for item in value.values() if isinstance(value, dict) else value:
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            if isinstance(item, float):
                if not _plain_float(item):
                    return False
            elif isinstance(item, (dict, list, tuple)):
                stack.append(item)
    return True


def _plain_float(value: float) -> bool:
    # NaN and infinity: orjson's null, as before (see json_bytes)
    return not value or 1e-4 <= abs(value) < 1e15 or not math.isfinite(value)


def no_store_json_headers(length: int, typed: bool = True) -> list[tuple[bytes, bytes]]:
    """The raw headers of ``SalesforceJSON(..., headers=NO_STORE)`` (or of an
    empty ``Response(headers=NO_STORE)``, ``typed=False``), in the order Starlette writes them."""
    length_header = (b"content-length", b"%d" % length)
    return [*_NO_STORE_RAW, length_header, _JSON_TYPE_RAW] if typed else \
        [*_NO_STORE_RAW, length_header]


_NO_STORE_RAW = tuple((k.lower().encode(), v.encode()) for k, v in NO_STORE.items())
_JSON_TYPE_RAW = (b"content-type", JSON_TYPE.encode())


class SalesforceJSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return json_bytes(content)

    def init_headers(self, headers: object = None) -> None:  # type: ignore[override]
        if headers is None and self.status_code >= 200 and self.status_code not in (204, 304):
            # What Starlette's ``init_headers`` and the rewrite below make of no headers and a
            # status with a body (most answers: the data API's every success), built at once.
            self.raw_headers = [(b"content-length", b"%d" % len(self.body)), _JSON_TYPE_RAW]
            return
        super().init_headers(headers)  # type: ignore[arg-type]
        self.raw_headers = [
            (k, JSON_TYPE.encode()) if k == b"content-type" else (k, v)
            for k, v in self.raw_headers
        ]


def api_error_response(error: ApiError) -> Response:
    headers = error.headers or ({"WWW-Authenticate": "Token"} if error.status == 401 else None)
    return SalesforceJSON(error.body(), status_code=error.status, headers=headers)


def oauth_error_response(error: OAuthError) -> Response:
    extra = error.headers()
    return SalesforceJSON(error.body(), status_code=error.status,
                          headers={**NO_STORE, **extra} if extra else NO_STORE)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return api_error_response(exc)


async def _oauth_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return oauth_error_response(exc)


_METHOD_ORDER = ("HEAD", "GET", "POST", "PUT", "PATCH", "DELETE")  # Salesforce lists HEAD first


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/services/data"):
        if exc.status_code == 405:
            listed = exc.headers.get("Allow", "") if exc.headers else ""
            given = {m.strip() for m in listed.split(",")}
            allowed = ",".join(m for m in _METHOD_ORDER if m in given)
            response = api_error_response(MethodNotAllowed(
                f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"))
            response.headers["Allow"] = allowed
            return response
        if exc.status_code == 404:
            return api_error_response(NotFound())
    if request.url.path.startswith(OAUTH_PATHS):  # e.g. PUT on the token endpoint: a 405
        response = oauth_error_response(InvalidRequest(exc.detail, status=exc.status_code))
        response.headers.update(exc.headers or {})
        return response
    return Response(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_error_response(request.method, request.url.path)


#: Paths whose clients read OAuth's ``{error, error_description}``.
OAUTH_PATHS = ("/services/oauth2/", "/.well-known/", "/id/")
#: Seconds a client is told to wait when the database is away.
RETRY_AFTER = "5"


def database_unavailable(exc: BaseException | None) -> bool:
    """True for a failure to reach the database (down, restarting, pool exhausted), not for a
    bad statement."""
    while exc is not None:
        if isinstance(exc, (sql_errors.OperationalError, sql_errors.InterfaceError,
                            sql_errors.TimeoutError)) or (
                isinstance(exc, sql_errors.DBAPIError) and exc.connection_invalidated):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_response(path: str) -> Response:
    headers = {"Retry-After": RETRY_AFTER}
    if path.startswith(OAUTH_PATHS):
        return SalesforceJSON({"error": "temporarily_unavailable", "error_description":
                               "the service is temporarily unavailable"}, status_code=503,
                              headers={**NO_STORE, **headers})
    if path.startswith("/services/"):
        return SalesforceJSON([{"message": "Server temporarily unavailable, please retry later",
                                "errorCode": "SERVER_UNAVAILABLE"}], status_code=503,
                              headers=headers)
    return Response("Service temporarily unavailable, please retry later", status_code=503,
                    media_type="text/plain", headers=headers)


def unexpected_error_response(method: str, path: str) -> Response:
    """Logged with its traceback (call it where the exception is being handled); answered
    in the shape the path's clients read: OAuth JSON, a SOAP fault, the data API's error
    list, or plain text for pages. The database being unreachable is a 503
    (``unavailable_response``), logged in one line."""
    current = sys.exc_info()[1]
    if database_unavailable(current):
        log.warning("database unavailable on %s %s: %s", method, path,
                    current.__class__.__name__)
        return unavailable_response(path)
    error_id = secrets.token_hex(8)
    log.exception("unhandled error %s on %s %s", error_id, method, path)
    message = ("An unexpected error occurred. Please include this ErrorId if you contact "
               f"support: {error_id}")
    if path.startswith(OAUTH_PATHS):
        return oauth_error_response(OAuthError(message, status=500))
    if path.startswith(SOAP_PATHS):
        return soap_fault_response("UNKNOWN_EXCEPTION", message)
    if path.startswith("/services/"):
        return api_error_response(ApiError(message))
    return Response(message, status_code=500, media_type="text/plain")


# -- the middlewares' refusals: they decide, these render --------------------------------

#: SOAP API paths: their clients read a SOAP fault.
SOAP_PATHS = "/services/Soap/"
HTTPS_REQUIRED = "HTTPS required"


def soap_fault_response(code: str, message: str) -> Response:
    """A SOAP ``LoginFault`` (web/routes/soap.py writes the envelope)."""
    from localforce.oauth.endpoints.soap_login import SoapLoginFault
    from localforce.web.routes.soap import fault

    return fault(SoapLoginFault(code, message))


def https_required_response(path: str, json_endpoint: bool) -> Response:
    """Salesforce's ``invalid_request`` / ``HTTPS required`` (``middleware.HttpsRequired``):
    OAuth JSON for the endpoints that answer JSON (``json_endpoint``), a page for the
    browser-facing ones (the redirect URI is not trusted yet, so the error is not redirected;
    RFC 6749 §4.1.2.1), the data API's error list, and the SOAP API's
    ``UNSUPPORTED_CLIENT: HTTPS Required`` fault for SOAP ``login()``."""
    if path.startswith(SOAP_PATHS):
        return soap_fault_response("UNSUPPORTED_CLIENT", "HTTPS Required")
    error = InvalidRequest(HTTPS_REQUIRED)
    if path.startswith(("/services/data/", "/services/async/")):
        return api_error_response(HttpsRequiredForApi())
    if json_endpoint:
        return oauth_error_response(error)
    text = escape(f"error={error.error}&error_description={error.description}")
    return HTMLResponse(f"<!doctype html><title>OAuth Error</title><h1>OAuth Error</h1>"
                        f"<p>{text}</p>", status_code=400,
                        headers={"Cache-Control": "no-store"})


def login_rate_response(path: str) -> Response:
    """Too many login attempts from one address (``ratelimit.LoginRateByIp``)."""
    if path.startswith("/services/oauth2/"):
        return oauth_error_response(RateLimitExceeded())
    if path.startswith(SOAP_PATHS):
        return soap_fault_response("LOGIN_RATE_EXCEEDED", "Login rate exceeded")
    return HTMLResponse("<!doctype html><title>Too many attempts</title>"
                        "<h1>Too many login attempts</h1><p>Try again in a minute.</p>",
                        status_code=429, headers={"Retry-After": "60",
                                                  "Cache-Control": "no-store"})


def head_too_large_response(status: int) -> Response:
    """414 for a URI, 431 for a URI and headers, too large (``requestsize.HeaderLimit``)."""
    return PlainTextResponse(
        "URI Too Long" if status == 414 else "Request Header Fields Too Large",
        status_code=status)


async def _database_error(request: Request, exc: Exception) -> Response:
    """The database away is a 503, handled here rather than by ``_unexpected``: Starlette
    re-raises what reaches that one, and the server then closes the connection (a load
    balancer in front drops its clients' next requests on it unanswered)."""
    if not database_unavailable(exc):
        raise exc
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                exc.__class__.__name__)
    return unavailable_response(request.url.path)


EXCEPTION_HANDLERS = {
    ApiError: _api_error,
    OAuthError: _oauth_error,
    HTTPException: _http_error,
    sql_errors.DBAPIError: _database_error,
    sql_errors.TimeoutError: _database_error,
    Exception: _unexpected,
}
