"""OAuth scopes as Salesforce defines them (salesforce-wire.md §7.1)."""

from __future__ import annotations

from collections.abc import Iterable

#: Scopes this server understands, with the words the consent page shows.
SCOPE_LABELS: dict[str, str] = {
    "api": "Manage user data via APIs",
    "refresh_token": "Perform requests at any time",
    "offline_access": "Perform requests at any time",
    "full": "Full access",
    "web": "Manage user data via Web browsers",
    "id": "Access the identity URL service",
    "profile": "Access the identity URL service",
    "email": "Access the identity URL service",
    "address": "Access the identity URL service",
    "phone": "Access the identity URL service",
    "openid": "Access unique user identifiers",
    "custom_permissions": "Access custom permissions",
    "chatter_api": "Access Connect REST API resources",
    "visualforce": "Access Visualforce applications",
    "lightning": "Access Lightning applications",
    "content": "Access content resources",
    "wave_api": "Access Analytics REST API resources",
}

KNOWN_SCOPES = frozenset(SCOPE_LABELS)

#: Scopes that allow the REST data API.
DATA_API_SCOPES = frozenset({"api", "full"})

#: Scopes that let a flow issue a refresh token.
REFRESH_SCOPES = frozenset({"refresh_token", "offline_access"})

#: Scopes never granted to a client-credentials token (salesforce-wire.md §2.7).
CLIENT_CREDENTIALS_EXCLUDED = frozenset({"full", "web", "offline_access", "refresh_token"})


def parse(value: str | None) -> tuple[str, ...]:
    """Split a space- (or plus-) separated scope string, keeping first-seen order."""
    if not value:
        return ()
    seen: dict[str, None] = {}
    for item in value.replace("+", " ").split():
        seen.setdefault(item, None)
    return tuple(seen)


def render(scopes: Iterable[str]) -> str:
    return " ".join(scopes)


def allows_data_api(scopes: Iterable[str]) -> bool:
    return not DATA_API_SCOPES.isdisjoint(scopes)


def allows_refresh(scopes: Iterable[str]) -> bool:
    return not REFRESH_SCOPES.isdisjoint(scopes)
