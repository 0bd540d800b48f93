"""Introspection, revocation, the identity URL and SOAP login/logout, from fakes of their own
Protocols (oauth/flows/needs.py, directory/ports.py and the endpoints' own): no store, no
server."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    NOW,
    ORG,
    USER,
    Directory,
    Logins,
    Tokens,
    clock,
    request,
)

from localforce.domain import ids
from localforce.domain.models import ConnectedApp, User
from localforce.domain.principal import Principal
from localforce.oauth import ports
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.endpoints.identity import BAD_ID, BAD_TOKEN, Identity, IdentityError
from localforce.oauth.endpoints.introspection import INACTIVE, Introspection
from localforce.oauth.endpoints.revocation import Revocation
from localforce.oauth.endpoints.soap_login import SoapLogin, SoapLoginFault
from localforce.oauth.errors import InvalidClient, InvalidToken, OAuthError, UnsupportedTokenType
from localforce.oauth.issuing import Issued
from localforce.oauth.messages import TokenRequest
from localforce.oauth.ports import ACCESS, REFRESH, TokenRecord
from localforce.oauth.sessions import InvalidSession
from localforce.security.tokens import digest

OTHER = ConnectedApp("0H4000000000002AAA", ORG.id, "Other", "KEY2")


class Callers:
    """``authenticate``: the app whose key is the request's ``client_id``, with the secret."""

    def authenticate(self, request: TokenRequest, *, require_secret: bool,
                     org_id: str | None = None) -> ConnectedApp:
        app = next((a for a in (APP, OTHER) if a.consumer_key == request.client_id), None)
        if app is None or request.client_secret != "s3cret":
            raise InvalidClient()
        return app


@dataclass
class Revoking(Tokens):
    revoked: list[str] = field(default_factory=list)

    def revoke(self, digest: str, now: int) -> bool:
        self.revoked.append(digest)
        return True


def record(token: str, kind: str = ACCESS, **extra: object) -> TokenRecord:
    return TokenRecord(digest(token), kind, ORG.id, USER.id, APP.id, ("api",), "fam1",
                       "password", NOW - 100, NOW - 100, **extra)  # type: ignore[arg-type]


def identity_url(user: User) -> str:
    return f"https://x/id/{user.org_id}/{user.id}"


# -- introspection -----------------------------------------------------------------------

def introspection(*records: TokenRecord, users: Directory | None = None) -> Introspection:
    return Introspection(Callers(), Revoking({r.digest: r for r in records}),
                         users or Directory(), identity_url, clock)


def test_introspection_of_a_live_access_token() -> None:
    endpoint = introspection(record("tok", idle_timeout=7200))
    assert endpoint.introspect(request(token="tok")) == {
        "active": True, "scope": "api", "client_id": APP.consumer_key,
        "username": USER.username, "sub": identity_url(USER), "token_type": "access_token",
        "exp": NOW - 100 + 7200, "iat": NOW - 100, "nbf": NOW - 100}


def test_another_apps_or_a_dead_or_an_inactive_users_token_is_inactive() -> None:
    endpoint = introspection(record("tok"), record("old", revoked_at=NOW - 1))
    assert endpoint.introspect(request(client_id=OTHER.consumer_key, token="tok")) == INACTIVE
    assert endpoint.introspect(request(token="old")) == INACTIVE
    assert endpoint.introspect(request(token="unknown")) == INACTIVE
    gone = introspection(record("tok"), users=Directory(users=[replace(USER, active=False)]))
    assert gone.introspect(request(token="tok")) == INACTIVE


def test_introspection_refuses_a_wrong_secret_with_401() -> None:
    with pytest.raises(InvalidClient) as refused:
        introspection(record("tok")).introspect(request(secret="wrong", token="tok"))
    assert refused.value.status == 401


# -- revocation --------------------------------------------------------------------------

def revocation(*records: TokenRecord) -> tuple[Revocation, Revoking, list[str]]:
    tokens, forgotten = Revoking({r.digest: r for r in records}), []
    return Revocation(Callers(), tokens, forgotten.append, clock), tokens, forgotten


def test_revoking_an_access_token_ends_that_session_only() -> None:
    endpoint, tokens, forgotten = revocation(record("tok"))
    endpoint.revoke(request(secret=None, token="tok"))
    assert tokens.revoked == [digest("tok")] and tokens.revoked_families == []
    assert forgotten == [digest("tok")]


def test_revoking_a_refresh_token_revokes_its_family() -> None:
    endpoint, tokens, _ = revocation(record("ref", REFRESH))
    endpoint.revoke(request(secret=None, token="ref"))
    assert tokens.revoked_families == ["fam1"] and tokens.revoked == []


def test_unknown_revoked_or_another_apps_token_is_invalid_token() -> None:
    endpoint, tokens, _ = revocation(record("tok"), record("old", revoked_at=NOW - 1))
    for token, client_id in (("unknown", APP.consumer_key), ("old", APP.consumer_key),
                             ("tok", OTHER.consumer_key)):
        with pytest.raises(InvalidToken):
            endpoint.revoke(request(client_id=client_id, token=token))
    with pytest.raises(UnsupportedTokenType):
        endpoint.revoke(request(secret=None))
    assert tokens.revoked == [] and tokens.revoked_families == []


# -- identity ------------------------------------------------------------------------------

class Resolver:
    """``Sessions``: "tok" is a bearer token, "bound" one bound to the DPoP key "k"."""

    def resolve(self, token: str, *, require_api: bool = True,
                jkt: str | None = None) -> Principal:
        assert require_api is False  # the identity URL needs no api scope
        if token not in ("tok", "bound") or jkt != {"tok": None, "bound": "k"}[token]:
            raise InvalidSession("unknown")
        return Principal(ORG.id, USER.id, USER.username, APP.id, APP.name, ("id",), None,  # type: ignore[arg-type]
                         digest(token))


def test_identity_of_the_tokens_own_user_and_bad_token_or_id() -> None:
    directory = Directory()
    identity = Identity(Resolver(), directory, directory, identity_url, "https://x")
    body = identity.identity("tok", ORG.id, USER.id, None)
    assert (body["id"], body["username"], body["organization_id"]) == (
        identity_url(USER), USER.username, ids.to18(ORG.id))
    assert body["urls"]["rest"] == "https://x/services/data/v{version}/"
    for token, user_id, text in (("bad", USER.id, BAD_TOKEN), (None, USER.id, BAD_TOKEN),
                                 ("tok", "005000000000009AAA", BAD_ID)):
        with pytest.raises(IdentityError) as refused:
            identity.identity(token, ORG.id, user_id, None)
        assert (refused.value.text, refused.value.status) == (text, 403)


def test_a_dpop_bound_token_is_good_with_its_proofs_key_only() -> None:
    directory = Directory()
    identity = Identity(Resolver(), directory, directory, identity_url, "https://x")
    assert identity.userinfo("bound", None, "k")["user_id"] == ids.to18(USER.id)
    assert identity.identity("bound", ORG.id, USER.id, None, "k")["id"] == identity_url(USER)
    for token, jkt in (("bound", None), ("bound", "other"), ("tok", "k")):
        with pytest.raises(IdentityError) as refused:
            identity.userinfo(token, None, jkt)
        assert (refused.value.text, refused.value.status) == (BAD_TOKEN, 403)


# -- SOAP login() and logout() -------------------------------------------------------------

class Sessions:
    def __init__(self) -> None:
        self.issued: list[tuple[str, str]] = []

    def issue_session(self, user: User, flow: str = "soap",
                      seconds_valid: int | None = None) -> Issued:
        self.issued.append((user.id, flow))
        return Issued("00D!soap-session", 7200)


class SoapLogins(Logins):
    def password(self, username: str, password: str, context: object,  # type: ignore[override]
                 *, require_token: bool = True) -> User:
        try:
            return super().password(username, password, context)  # type: ignore[arg-type]
        except OAuthError:
            raise LoginFailed(ports.INVALID_PASSWORD) from None


def soap(refuse: OAuthError | None = None, *records: TokenRecord
         ) -> tuple[SoapLogin, SoapLogins, Sessions, Revoking, list[str]]:
    logins, sessions = SoapLogins(refuse=refuse), Sessions()
    tokens, forgotten = Revoking({r.digest: r for r in records}), []
    endpoint = SoapLogin(logins, Directory(), sessions, tokens, forgotten.append, "https://x",
                         clock)
    return endpoint, logins, sessions, tokens, forgotten


def test_soap_login_issues_a_session_with_the_servers_urls() -> None:
    endpoint, logins, sessions, _, _ = soap()
    session = endpoint.login(USER.username, "pw+token", "59.0", "198.51.100.7", None)
    assert (session.session_id, session.seconds_valid) == ("00D!soap-session", 7200)
    org15 = ids.to15(ORG.id)
    assert session.server_url == f"https://x/services/Soap/u/59.0/{org15}"
    assert session.metadata_server_url == f"https://x/services/Soap/m/59.0/{org15}"
    assert sessions.issued == [(USER.id, "soap")] and logins.names() == ["password"]
    assert logins.calls[0][3].login_type == ports.SOAP_LOGIN


def test_soap_login_refusals_are_invalid_login_and_a_missing_password_is_recorded() -> None:
    endpoint, logins, sessions, _, _ = soap(InvalidClient())
    with pytest.raises(SoapLoginFault) as refused:
        endpoint.login(USER.username, "wrong", "59.0", None, None)
    assert refused.value.code == "INVALID_LOGIN"
    with pytest.raises(SoapLoginFault):
        endpoint.login(USER.username, None, "59.0", None, None)
    assert logins.calls[-1] == ("record", ports.INVALID_PASSWORD, None, USER.username)
    assert sessions.issued == []


def test_soap_logout_revokes_the_session_and_refuses_an_unknown_one() -> None:
    endpoint, _, _, tokens, forgotten = soap(None, record("sess"))
    endpoint.logout("sess")
    assert tokens.revoked == [digest("sess")] and forgotten == [digest("sess")]
    for session_id in ("unknown", None):
        with pytest.raises(SoapLoginFault) as refused:
            endpoint.logout(session_id)
        assert refused.value.code == "INVALID_SESSION_ID"
