"""Who is calling: the resolved identity behind an access token."""

from __future__ import annotations

from dataclasses import dataclass

from localforce.domain.models import Access


@dataclass(frozen=True)
class Principal:
    org_id: str
    user_id: str
    username: str
    app_id: str | None  # None for a SOAP session
    app_name: str | None
    scopes: tuple[str, ...]
    access: Access
    #: SHA-256 digest of the access token (never the token itself).
    token_digest: str
    #: RFC 9449: the thumbprint of the DPoP key the token is bound to (None: a bearer token).
    jkt: str | None = None
