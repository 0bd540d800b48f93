"""Token providers: each knows one grant's form. ``grant()`` is the form of a first token; the
session refreshes with the refresh token when the answer had one, else asks ``grant()`` again.

Nothing here is localforce-specific: ``login_url`` is ``https://login.salesforce.com``,
``https://test.salesforce.com``, a My Domain URL, or a localforce base URL.
The browser flows (web server + PKCE, device) live in ``loopback.py`` and ``device.py``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

TOKEN_PATH = "/services/oauth2/token"


class TokenProvider(Protocol):
    login_url: str
    client_id: str
    #: Known only to confidential clients; the session verifies ``signature`` with it.
    client_secret: str | None

    def grant(self) -> dict[str, str]:
        """The token endpoint form for a new token."""
        ...


def token_url(login_url: str) -> str:
    return login_url.rstrip("/") + TOKEN_PATH


@dataclass
class ClientCredentials:
    """``grant_type=client_credentials``: the app's run-as user, no refresh token."""

    login_url: str
    client_id: str
    client_secret: str | None = field(repr=False)

    def grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret or ""}


@dataclass
class RefreshToken:
    """``grant_type=refresh_token`` from a refresh token you already hold."""

    login_url: str
    client_id: str
    refresh_token: str = field(repr=False)
    client_secret: str | None = field(default=None, repr=False)

    def grant(self) -> dict[str, str]:
        return refresh_form(self, self.refresh_token)


def refresh_form(provider: TokenProvider, refresh_token: str) -> dict[str, str]:
    form = {"grant_type": "refresh_token", "client_id": provider.client_id,
            "refresh_token": refresh_token}
    if provider.client_secret:
        form["client_secret"] = provider.client_secret
    return form


@dataclass
class JwtBearer:
    """RFC 7523 JWT bearer: an RS256 assertion signed by the app's certificate key.

    ``private_key`` is a PEM string/bytes or a path to a PEM file. ``audience`` defaults to the
    login URL (``https://login.salesforce.com``, ``https://test.salesforce.com`` or the My
    Domain / community URL, as Salesforce wants).
    """

    login_url: str
    client_id: str
    username: str
    private_key: str | bytes | Path = field(repr=False)
    audience: str | None = None
    lifetime_seconds: int = 180
    client_secret: str | None = field(default=None, repr=False)

    def assertion(self, now: float | None = None) -> str:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        pem = self.private_key
        if isinstance(pem, Path) or (isinstance(pem, str) and "-----BEGIN" not in pem):
            pem = Path(pem).read_bytes()
        key = serialization.load_pem_private_key(
            pem.encode() if isinstance(pem, str) else pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the JWT bearer flow signs with an RSA key (RS256)")
        issued = int(now if now is not None else time.time())
        header = {"alg": "RS256", "typ": "JWT"}
        claims = {"iss": self.client_id, "sub": self.username,
                  "aud": (self.audience or self.login_url).rstrip("/"),
                  "exp": issued + self.lifetime_seconds, "iat": issued, "jti": uuid.uuid4().hex}
        signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
        sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(sig)}"

    def grant(self) -> dict[str, str]:
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": self.assertion()}


@dataclass
class UsernamePassword:
    """LEGACY: the OAuth username-password flow. Salesforce blocks it in new orgs and
    recommends against it; use JWT bearer or client credentials for unattended logins."""

    login_url: str
    client_id: str
    client_secret: str | None = field(repr=False)
    username: str
    password: str = field(repr=False)
    security_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        warnings.warn("the username-password flow is legacy; prefer JWT bearer or client "
                      "credentials", DeprecationWarning, stacklevel=3)

    def grant(self) -> dict[str, str]:
        return {"grant_type": "password", "client_id": self.client_id,
                "client_secret": self.client_secret or "", "username": self.username,
                "password": self.password + self.security_token}


@dataclass
class Provided:
    """A token obtained elsewhere (a browser login, the cache). Without a refresh token, it
    cannot be renewed."""

    login_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)

    def grant(self) -> dict[str, str]:
        from localforce.client.errors import AuthenticationError

        raise AuthenticationError("this session's token expired and it has no refresh token; "
                                  "log in again", error_code="login_required")


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
