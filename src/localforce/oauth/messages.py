"""Token-endpoint messages, independent of the web framework.

``web/forms.py`` builds a ``TokenRequest`` from an HTTP request (form, multipart, query string,
HTTP Basic); flows return a ``Reply`` whose ``body()`` is the JSON object to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TokenRequest:
    """The parameters of one token-endpoint call (unknown ones are carried, and ignored).

    ``client_id``/``client_secret`` come from HTTP Basic (RFC 6749 §2.3.1) when present, else
    from the body; ``basic`` says which.
    """

    params: Mapping[str, str]
    client_id: str | None = None
    client_secret: str | None = None
    basic: bool = False
    source_ip: str | None = None
    #: The URL the client called (LoginHistory.LoginUrl).
    url: str | None = None
    #: The ``DPoP`` header (RFC 9449), "" if it was sent more than once; None without one.
    dpop: str | None = None
    #: The thumbprint of the DPoP proof's key, once the server has verified the proof.
    jkt: str | None = None

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    @property
    def grant_type(self) -> str | None:
        return self.get("grant_type")


class Reply(Protocol):
    def body(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class TokenResponse:
    """Salesforce's token response (salesforce-wire.md §3), in Salesforce's field order.

    No ``expires_in``: the lifetime is the app's session timeout of inactivity.
    """

    access_token: str
    instance_url: str
    id: str
    issued_at: str | None  # epoch milliseconds, as a string
    signature: str | None
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None
    token_type: str = "Bearer"
    extra: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"access_token": self.access_token}
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token
        if self.signature is not None:
            out["signature"] = self.signature
        out["scope"] = self.scope
        if self.id_token is not None:
            out["id_token"] = self.id_token
        out["instance_url"] = self.instance_url
        out["id"] = self.id
        out["token_type"] = self.token_type
        if self.issued_at is not None:
            out["issued_at"] = self.issued_at
        out.update(self.extra)
        return out
