"""Data-API errors: typed, each carrying Salesforce's errorCode and HTTP status.

``web/errors.py`` renders them as ``[{"message", "errorCode", "fields"?}]`` (salesforce-wire.md
§6.7). Core code raises these; it never builds a response.
"""

from __future__ import annotations


class ApiError(Exception):
    error_code = "UNKNOWN_EXCEPTION"
    status = 500
    #: Response headers beside the body (``WWW-Authenticate`` of a 401 if not the default).
    headers: dict[str, str] | None = None

    def __init__(self, message: str, fields: list[str] | None = None,
                 error_code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        if error_code is not None:
            self.error_code = error_code
        if status is not None:
            self.status = status

    def body(self) -> list[dict[str, object]]:
        item: dict[str, object] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class InvalidSessionId(ApiError):
    error_code = "INVALID_SESSION_ID"
    status = 401

    def __init__(self, message: str = "Session expired or invalid") -> None:
        super().__init__(message)


class DpopRefused(InvalidSessionId):
    """A DPoP-bound token without its proof, or a bad proof (RFC 9449 §7.1): the session
    error's body, with the DPoP challenge (and a fresh nonce when one is needed)."""

    def __init__(self, error: str, description: str, nonce: str | None = None,
                 algorithms: str = "") -> None:
        super().__init__()
        self.headers = {"WWW-Authenticate": f'DPoP error="{error}", '
                                            f'error_description="{description}", '
                                            f'algs="{algorithms}"'}
        if nonce is not None:
            self.headers["DPoP-Nonce"] = nonce


class NotFound(ApiError):
    error_code = "NOT_FOUND"
    status = 404

    def __init__(self, message: str = "The requested resource does not exist") -> None:
        super().__init__(message)


class MethodNotAllowed(ApiError):
    error_code = "METHOD_NOT_ALLOWED"
    status = 405


class HttpsRequiredForApi(ApiError):
    """The API over plain HTTP from a remote client (SOAP's fault says the same)."""

    error_code = "UNSUPPORTED_CLIENT"
    status = 403

    def __init__(self) -> None:
        super().__init__("HTTPS Required")


class UnsupportedMediaType(ApiError):
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415


class InsufficientAccess(ApiError):
    error_code = "INSUFFICIENT_ACCESS_OR_READONLY"
    status = 403


class ApiDisabled(ApiError):
    error_code = "API_DISABLED_FOR_ORG"
    status = 403

    def __init__(self, message: str = "The REST API is not enabled for this Organization."
                 ) -> None:
        super().__init__(message)


class RequestLimitExceeded(ApiError):
    error_code = "REQUEST_LIMIT_EXCEEDED"
    status = 403

    def __init__(self, message: str = "TotalRequests Limit exceeded.") -> None:
        super().__init__(message)


class BadRequest(ApiError):
    """A 400 with a caller-chosen errorCode (MALFORMED_QUERY, INVALID_FIELD, JSON_PARSER_ERROR…)."""

    status = 400

    def __init__(self, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message, fields, error_code=error_code)
