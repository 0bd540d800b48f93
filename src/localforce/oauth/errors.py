"""OAuth errors: one class per wire code (RFC 6749 §5.2, RFC 7009, RFC 8628 §3.5, Salesforce).

Each carries ``error`` and the default ``description`` in Salesforce's verbatim wording
(salesforce-wire.md §4.1). ``web/errors.py`` renders them as ``{"error","error_description"}``
with ``Cache-Control: no-store``, or as a redirect once the redirect URI is trusted.
"""

from __future__ import annotations


class OAuthError(Exception):
    error = "server_error"
    description = "internal server error"
    status = 400

    def __init__(self, description: str | None = None, *, status: int | None = None) -> None:
        if description is not None:
            self.description = description
        if status is not None:
            self.status = status
        super().__init__(f"{self.error}: {self.description}")

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        """Response headers beside the body (most errors have none)."""
        return {}


class InvalidRequest(OAuthError):
    error = "invalid_request"
    description = "invalid request"


class InvalidClientId(OAuthError):
    error = "invalid_client_id"
    description = "client identifier invalid"


class InvalidClient(OAuthError):
    error = "invalid_client"
    description = "invalid client credentials"


class InvalidGrant(OAuthError):
    error = "invalid_grant"
    description = "authentication failure"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    description = "grant type not supported"


class InvalidScope(OAuthError):
    error = "invalid_scope"
    description = "requested scope is invalid, unknown, or malformed"


class InvalidAppAccess(OAuthError):
    error = "invalid_app_access"
    description = "user is not admin approved to access this app"


class InactiveUser(OAuthError):
    error = "inactive_user"
    description = "user is inactive"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"
    description = "the client is not authorized to use this flow"


class RateLimitExceeded(OAuthError):
    error = "rate_limit_exceeded"
    description = "number of logins exceeded"


class InvalidToken(OAuthError):
    """Revocation of an unknown or already revoked token (Salesforce answers 400, not RFC
    7009's 200; salesforce-wire.md §1.6)."""

    error = "invalid_token"
    description = "Token was invalid"


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"
    description = "Token type not supported"


# --- DPoP, RFC 9449 §5 and §8 (beyond Salesforce: only apps or clients that use it) ---


class InvalidDpopProof(OAuthError):
    error = "invalid_dpop_proof"
    description = "invalid DPoP proof"


class UseDpopNonce(OAuthError):
    """The proof needs the server's nonce (a fresh one is in ``DPoP-Nonce``)."""

    error = "use_dpop_nonce"
    description = "Authorization server requires nonce in DPoP proof"

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce

    def headers(self) -> dict[str, str]:
        return {"DPoP-Nonce": self.nonce}


# --- Token exchange, RFC 8693 §2.2.2 (only apps allowed to exchange) ---


class InvalidTarget(OAuthError):
    error = "invalid_target"
    description = "the requested audience is invalid or unknown"


# --- Authorize endpoint and device flow (salesforce-wire.md §2.4, §4.2; RFC 8628 §3.5) ---


class RedirectUriMismatch(OAuthError):
    """Shown as a page, never redirected (RFC 6749 §4.1.2.1)."""

    error = "redirect_uri_mismatch"
    description = "redirect_uri must match configuration"


class RedirectUriMissing(OAuthError):
    error = "redirect_uri_missing"
    description = "Redirect_uri not provided"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"
    description = "response type not supported"


class AccessDenied(OAuthError):
    error = "access_denied"
    description = "end-user denied authorization"


class ImmediateUnsuccessful(OAuthError):
    error = "immediate_unsuccessful"
    description = "immediate unsuccessful"


class LoginRequired(OAuthError):
    """OpenID Connect Core §3.1.2.6, for ``prompt=none``."""

    error = "login_required"
    description = "login required"


class ConsentRequired(OAuthError):
    error = "consent_required"
    description = "consent required"


class AuthorizationPending(OAuthError):
    error = "authorization_pending"
    description = "authorization pending"


class SlowDown(OAuthError):
    error = "slow_down"
    description = "polling too fast: slow down"


class ExpiredToken(OAuthError):
    error = "expired_token"
    description = "the device code has expired"
