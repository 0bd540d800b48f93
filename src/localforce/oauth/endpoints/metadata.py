"""OpenID Provider metadata, ``/.well-known/openid-configuration`` (OIDC Discovery §3),
listing only what this server implements, in Salesforce's field names (salesforce-wire.md §1.1).
"""

from __future__ import annotations

from typing import Any

from localforce.domain.scopes import KNOWN_SCOPES
from localforce.oauth.dpop import ALGORITHMS


def openid_configuration(base_url: str, grant_types: tuple[str, ...]) -> dict[str, Any]:
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/services/oauth2/authorize",
        "token_endpoint": f"{base_url}/services/oauth2/token",
        "revocation_endpoint": f"{base_url}/services/oauth2/revoke",
        "userinfo_endpoint": f"{base_url}/services/oauth2/userinfo",
        "jwks_uri": f"{base_url}/id/keys",
        "introspection_endpoint": f"{base_url}/services/oauth2/introspect",
        "device_authorization_endpoint": f"{base_url}/services/oauth2/device/code",
        # RFC 9126 §5; "require_pushed_authorization_requests" is per app, never global here.
        "pushed_authorization_request_endpoint": f"{base_url}/services/oauth2/par",
        "scopes_supported": sorted(KNOWN_SCOPES),
        "response_types_supported": ["code", "token", "token id_token"],
        # RFC 9207: authorization responses carry ``iss``.
        "authorization_response_iss_parameter_supported": True,
        "grant_types_supported": list(grant_types),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        # private_key_jwt (RFC 7523 §2.2) with the app's certificate; required per app.
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic",
                                                  "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        # RFC 9449 §5.1: any client may bind its tokens; "require DPoP" is per app.
        "dpop_signing_alg_values_supported": list(ALGORITHMS),
        "claims_supported": ["sub", "user_id", "organization_id", "preferred_username",
                             "nickname", "name", "email", "email_verified", "given_name",
                             "family_name", "zoneinfo", "locale", "language", "active",
                             "user_type", "urls", "photos", "picture", "profile"],
    }
