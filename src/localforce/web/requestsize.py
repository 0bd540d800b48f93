"""Request sizes are bounded (issue #16): an oversize body is refused with 413 in the shape its
clients read, before it is held whole; never a 500 or a server out of memory.

- the REST data API: ``MAX_DATA_BODY`` (Salesforce's 50 MB), 413 ``EXCEEDED_MAX_SIZE_REQUEST``
  in the data API's error list (web/routes/data.py reads its bodies with this limit, on the
  lean path as on Starlette's);
- Bulk uploads (Bulk 2.0 ``PUT …/batches``, Bulk 1.0 ``/services/async``): ``MAX_BULK_BODY``
  (Salesforce's 150 MB per upload); their own, smaller or inflated, limits stay in
  data/bulk (a Bulk 1.0 batch: 10 MB);
- everything else (OAuth endpoints, SOAP login, pages, Setup): ``MAX_FORM_BODY``, 413 with OAuth's
  ``invalid_request`` on ``/services/oauth2/`` and the other OAuth paths, the SOAP fault
  ``EXCEEDED_MAX_SIZE_REQUEST`` on SOAP login, plain text elsewhere. The lean path
  (web/hotpath.py) leaves a form over the limit to Starlette.

The declared ``Content-Length`` is refused at the first read; a chunked body is counted as it
arrives. The form field count (1,000) is Starlette's and web/forms.py's.

The request line and headers: Salesforce's 16,384 bytes for the URI and headers together (431
past it, 414 for the URI alone). granian, ``serve``'s default server, refuses a longer head
itself (web/servers.py ``MAX_HEAD_BYTES``); under uvicorn, whose httptools parser has no such
limit, ``HeaderLimit`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localforce.data.errors import ApiError
from localforce.oauth.endpoints.soap_login import SoapLoginFault
from localforce.oauth.errors import InvalidRequest
from localforce.web.errors import OAUTH_PATHS, head_too_large_response

MIB = 1024 * 1024
#: The REST data API's request bodies (Salesforce: "exceeded 50 MB").
MAX_DATA_BODY = 50 * MIB
#: A Bulk upload (Salesforce: 150 MB per Bulk 2.0 upload).
MAX_BULK_BODY = 150 * MIB
#: Forms and every other body: OAuth requests, SOAP login, pages.
MAX_FORM_BODY = 1 * MIB

DATA_PREFIX = "/services/data/"
BULK_PREFIX = "/services/async/"
SOAP_PREFIX = "/services/Soap/"


class RequestTooLarge(ApiError):
    """413 ``EXCEEDED_MAX_SIZE_REQUEST``: the data API's and Bulk API's refusal."""

    error_code = "EXCEEDED_MAX_SIZE_REQUEST"
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__("The size of the message sent to the API exceeded "
                         f"{_megabytes(limit)}.")


class SoapTooLarge(SoapLoginFault):
    """SOAP's refusal: Salesforce's ``EXCEEDED_MAX_SIZE_REQUEST`` fault, with 413 (not the
    500 of other faults: the message was never read, nothing failed)."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__("EXCEEDED_MAX_SIZE_REQUEST", "The size of the message sent to the API "
                         f"exceeded {_megabytes(limit)}.")


def _megabytes(limit: int) -> str:
    return f"{limit // MIB} MB"


def limit_for(path: str) -> int:
    if path.startswith(BULK_PREFIX):
        return MAX_BULK_BODY
    if path.startswith(DATA_PREFIX):
        return MAX_BULK_BODY  # the backstop: data.py holds the rest of the API to 50 MB
    return MAX_FORM_BODY


def too_large(path: str, limit: int) -> Exception:
    """The error an oversize body raises on ``path``, rendered by the route or web/errors.py
    in the surface's shape."""
    if path.startswith((DATA_PREFIX, BULK_PREFIX)):
        return RequestTooLarge(limit)
    if path.startswith(OAUTH_PATHS):
        return form_too_large()
    if path.startswith(SOAP_PREFIX):
        return SoapTooLarge(limit)
    return HTTPException(413, f"Request body larger than {_megabytes(limit)}")


def form_too_large() -> InvalidRequest:
    """OAuth's answer to a body over ``MAX_FORM_BODY``."""
    return InvalidRequest(f"request body larger than {_megabytes(MAX_FORM_BODY)}", status=413)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it before the app sees it
    return None


def bodiless(scope: Scope) -> bool:
    """An HTTP/1.x request with neither ``Content-Length`` nor ``Transfer-Encoding``: its body
    is empty (RFC 9112 §6.3), nothing to receive. HTTP/2 may send one without either."""
    if not scope.get("http_version", "1.1").startswith("1"):
        return False
    for name, _value in scope["headers"]:
        if name == b"content-length" or name == b"transfer-encoding":
            return False
    return True


def bounded(receive: Receive, path: str, declared: int | None) -> Receive:
    """``receive`` raising ``too_large`` instead of handing over a body past the path's limit."""
    limit, seen = limit_for(path), 0

    async def read() -> Message:
        nonlocal seen
        if declared is not None and declared > limit:
            raise too_large(path, limit)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(path, limit)
        return message

    return read


async def read_body(request: Request, limit: int,
                    error: Callable[[int], Exception] = RequestTooLarge) -> bytes:
    """The whole body of ``request``, or ``error(limit)`` once it is known to be over
    ``limit`` bytes (declared, or counted as it arrives)."""
    declared = declared_length(request.scope)
    if declared is not None and declared > limit:
        raise error(limit)
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise error(limit)
        chunks.append(chunk)
    body = request._body = b"".join(chunks)  # what ``request.body()`` answers from now on
    return body


class BodyLimit:
    """Pure ASGI middleware: each request's ``receive`` bounded by its path's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            receive = bounded(receive, scope["path"], declared_length(scope))
        await self.app(scope, receive, send)


#: Salesforce's bound on a request's URI and headers together.
MAX_HEADER_BYTES = 16_384


class HeaderLimit:
    """Pure ASGI wrapper: 414 for a URI, 431 for a URI and headers, over ``MAX_HEADER_BYTES``
    (wrapped around the app under uvicorn only: granian bounds the head itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __getattr__(self, name: str) -> object:  # ``state``, ``routes`` of the app behind
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            uri = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size = uri + sum(len(name) + len(value) for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                status = 414 if uri > MAX_HEADER_BYTES else 431
                response = head_too_large_response(status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
