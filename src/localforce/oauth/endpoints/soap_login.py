"""SOAP partner API ``login()`` and ``logout()`` (salesforce-wire.md §9).

simple-salesforce's and jsforce's default username + password (+ security token) login. This
is the protocol core; ``web/routes/soap.py`` reads and writes the XML envelopes. Any refusal
is ``INVALID_LOGIN`` — the fault does not say which check failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from localforce.directory.ports import OrgLookup
from localforce.domain import ids
from localforce.domain.models import Org, User
from localforce.oauth import ports
from localforce.oauth.credentials import LoginContext, LoginFailed
from localforce.oauth.flows.needs import Clock, TokenRevoker
from localforce.oauth.issuing import Issued
from localforce.security.tokens import digest

INVALID_LOGIN = "INVALID_LOGIN"
INVALID_LOGIN_MESSAGE = "Invalid username, password, security token; or user locked out."


class SoapLoginFault(Exception):
    #: A fault is a 500, as Salesforce answers every SOAP fault (web/requestsize.py's oversize
    #: message is a 413).
    status = 500

    def __init__(self, code: str = INVALID_LOGIN, message: str = INVALID_LOGIN_MESSAGE) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SoapSession:
    session_id: str
    server_url: str
    metadata_server_url: str
    seconds_valid: int
    user: User
    org: Org
    profile_id: str


class PasswordLogins(Protocol):
    """The password check and LoginHistory (``credentials.Logins``)."""

    def password(self, username: str, presented: str, context: LoginContext, *,
                 require_token: bool = True) -> User: ...

    def record(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> None: ...


class SessionIssuer(Protocol):
    """A session id without an app (``Issuer.issue_session``)."""

    def issue_session(self, user: User, flow: str = "soap",
                      seconds_valid: int | None = None) -> Issued: ...


class SoapLogin:
    """``forget(digest)``: drop a logged-out session's cached principal (``Sessions``);
    ``base_url``: this server's public URL."""

    def __init__(self, logins: PasswordLogins, orgs: OrgLookup, issuer: SessionIssuer,
                 tokens: TokenRevoker, forget: Callable[[str], None], base_url: str,
                 clock: Clock) -> None:
        self._logins = logins
        self._orgs = orgs
        self._issuer = issuer
        self._tokens = tokens
        self._forget = forget
        self._base_url = base_url
        self._clock = clock

    def login(self, username: str | None, password: str | None, version: str,
              source_ip: str | None, url: str | None) -> SoapSession:
        context = LoginContext(ports.SOAP_LOGIN, source_ip, None, url, api_type="SOAP Partner",
                               api_version=version)
        if not username or not password:
            self._logins.record(context, ports.INVALID_PASSWORD, username=username)
            raise SoapLoginFault()
        try:
            user = self._logins.password(username, password, context)
        except LoginFailed:
            raise SoapLoginFault() from None
        org = self._orgs.get_org(user.org_id)
        assert org is not None
        issued = self._issuer.issue_session(user, "soap")
        org15 = ids.to15(org.id)
        return SoapSession(
            session_id=issued.access_token,
            server_url=f"{self._base_url}/services/Soap/u/{version}/{org15}",
            metadata_server_url=f"{self._base_url}/services/Soap/m/{version}/{org15}",
            seconds_valid=issued.seconds_valid, user=user, org=org, profile_id=user.profile_id)

    def logout(self, session_id: str | None) -> None:
        """End a session (``<logout/>`` with ``SessionHeader``)."""
        if not session_id:
            raise SoapLoginFault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader")
        key = digest(session_id)
        record = self._tokens.find(key)
        if record is None or not record.alive(int(self._clock())):
            raise SoapLoginFault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader")
        self._tokens.revoke(key, int(self._clock()))
        self._forget(key)
