"""The localforce Python SDK: log in to a Salesforce-compatible org (Salesforce itself or
localforce) and call its REST API, with the token managed for you.

Depends on httpx and the standard library (``cryptography`` for the JWT bearer flow and the
token cache); never imports the server.

    from localforce.client import ClientCredentials, Session

    with Session(ClientCredentials("https://login.salesforce.com", key, secret)) as sf:
        for account in sf.query("SELECT Id, Name FROM Account"):
            ...
"""

from localforce.client.device import DeviceFlow
from localforce.client.errors import (
    AuthenticationError,
    Conflict,
    Forbidden,
    InvalidSession,
    MalformedRequest,
    NotFound,
    RequestLimitExceeded,
    SalesforceError,
    ServiceUnavailable,
    SignatureMismatch,
)
from localforce.client.loopback import WebServerFlow
from localforce.client.providers import (
    ClientCredentials,
    JwtBearer,
    Provided,
    RefreshToken,
    TokenProvider,
    UsernamePassword,
)
from localforce.client.session import AsyncSession, Session
from localforce.client.tokens import Token

__all__ = [
    "AsyncSession", "AuthenticationError", "ClientCredentials", "Conflict", "DeviceFlow",
    "Forbidden",
    "InvalidSession", "JwtBearer", "MalformedRequest", "NotFound", "Provided", "RefreshToken",
    "RequestLimitExceeded", "SalesforceError", "ServiceUnavailable", "Session",
    "SignatureMismatch", "Token", "TokenProvider", "UsernamePassword", "WebServerFlow",
]
