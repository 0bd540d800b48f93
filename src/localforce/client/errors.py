"""Typed errors: one class per failure a caller handles differently, each carrying the wire
facts (``error_code``, ``fields``, HTTP ``status``, the request id when the server sent one).

The data API answers ``[{"message", "errorCode", "fields"}]``; the OAuth endpoints answer
``{"error", "error_description"}``. ``from_response`` turns either into the right class.
"""

from __future__ import annotations

from typing import Any

import httpx

#: Headers a request id may come back in (Salesforce, proxies, localforce).
REQUEST_ID_HEADERS = ("x-request-id", "sforce-request-id", "x-sfdc-request-id")


class SalesforceError(Exception):
    """A call the org refused. ``errors`` holds every entry of the error list."""

    def __init__(self, message: str, *, status: int | None = None,
                 error_code: str | None = None, fields: list[str] | None = None,
                 request_id: str | None = None, errors: list[dict[str, Any]] | None = None,
                 response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.fields = fields or []
        self.request_id = request_id
        self.errors = errors or []
        self.response = response

    #: Salesforce's own spelling, for code ported from the wire docs.
    @property
    def errorCode(self) -> str | None:  # noqa: N802
        return self.error_code

    def __str__(self) -> str:
        where = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.status} {self.error_code}: {self.message}{where}"


class AuthenticationError(SalesforceError):
    """The token endpoint refused a grant (``error_code`` is OAuth's ``error``, e.g.
    ``invalid_grant`` for a revoked or expired refresh token)."""


class SignatureMismatch(AuthenticationError):
    """The token response's ``signature`` is not HMAC-SHA256(secret, id + issued_at)."""


class InvalidSession(SalesforceError):
    """401 ``INVALID_SESSION_ID`` even after the one refresh the session allows."""


class RequestLimitExceeded(SalesforceError):
    """403 ``REQUEST_LIMIT_EXCEEDED``: the org's API allocation is used up."""


class Forbidden(SalesforceError):
    """403 for any other reason (missing permission, API disabled...)."""


class NotFound(SalesforceError):
    """404: no such record, object or resource."""


class MalformedRequest(SalesforceError):
    """400: bad SOQL, unknown field, failed validation..."""


class Conflict(SalesforceError):
    """300 (several records match an external id) or 409."""


class ServiceUnavailable(SalesforceError):
    """503; ``retry_after`` in seconds when the server said."""

    @property
    def retry_after(self) -> float | None:
        value = self.response.headers.get("retry-after") if self.response is not None else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


_BY_STATUS: dict[int, type[SalesforceError]] = {
    300: Conflict, 400: MalformedRequest, 401: InvalidSession, 403: Forbidden, 404: NotFound,
    409: Conflict, 503: ServiceUnavailable}


def request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def from_response(response: httpx.Response) -> SalesforceError:
    """The typed error for a data-API (or any REST) response that is not a success."""
    body = _body(response)
    entries = [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []
    if isinstance(body, dict) and "errorCode" in body:
        entries = [body]
    if isinstance(body, dict) and "error" in body:  # an OAuth-shaped answer
        return oauth_error(response)
    first = entries[0] if entries else {}
    code = first.get("errorCode")
    message = first.get("message") or response.text[:500] or response.reason_phrase
    kind = _BY_STATUS.get(response.status_code, SalesforceError)
    if code == "REQUEST_LIMIT_EXCEEDED":
        kind = RequestLimitExceeded
    return kind(str(message), status=response.status_code, error_code=code,
                fields=list(first.get("fields") or []), request_id=request_id(response),
                errors=entries, response=response)


def oauth_error(response: httpx.Response) -> AuthenticationError:
    body = _body(response)
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or f"http_{response.status_code}")
    message = str(body.get("error_description") or response.text[:500] or code)
    return AuthenticationError(message, status=response.status_code, error_code=code,
                               request_id=request_id(response), errors=[body],
                               response=response)
