"""PasswordFlow built from fakes of its Protocols (Clients, OrgLookup, UserLookup,
LoginPolicy, TokenWriter)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    ORG,
    SECRET,
    USER,
    Clients,
    Directory,
    Issuer,
    Logins,
    request,
)

from localforce.oauth import ports
from localforce.oauth.errors import InactiveUser, InvalidClient, InvalidGrant
from localforce.oauth.flows.password import ISSUE, PasswordFlow

ALLOWED = replace(ORG, username_password_flow=True)


def flow(org=ALLOWED, logins=None, issuer=None):  # type: ignore[no-untyped-def]
    directory = Directory(orgs=[org])
    return PasswordFlow(Clients(), directory, directory, logins or Logins(), issuer or Issuer())


def login(**params: str):  # type: ignore[no-untyped-def]
    return request(grant_type="password", **params)


def test_the_password_check_admits_and_the_token_is_signed_with_the_presented_secret() -> None:
    logins, issuer = Logins(), Issuer()
    flow(logins=logins, issuer=issuer).exchange(
        login(username=USER.username, password="pw+token", scope="api"))
    (name, username, password, context), = logins.calls
    assert (name, username, password, context.app, context.source_ip) == (
        "password", USER.username, "pw+token", APP, "198.51.100.7")
    assert issuer.issued == [(APP.id, USER.id, ("api",), ISSUE, SECRET)]
    assert ISSUE.flow == "password" and not ISSUE.with_refresh


def test_an_org_that_disallows_the_flow_records_it_and_refuses() -> None:
    logins = Logins()
    with pytest.raises(InvalidGrant):
        flow(ORG, logins=logins).exchange(login(username=USER.username, password="pw"))
    assert logins.calls == [("record", ports.USERNAME_PASSWORD_DISABLED, USER.id,
                             USER.username)]


@pytest.mark.parametrize("params", [{"username": USER.username}, {"password": "pw"}, {}])
def test_missing_credentials(params: dict[str, str]) -> None:
    logins = Logins()
    with pytest.raises(InvalidGrant):
        flow(logins=logins).exchange(login(**params))
    assert logins.calls == []


def test_a_refusal_is_the_login_policys_error() -> None:
    issuer = Issuer()
    with pytest.raises(InactiveUser):
        flow(logins=Logins(refuse=InactiveUser()), issuer=issuer).exchange(
            login(username=USER.username, password="pw"))
    assert issuer.issued == []


def test_the_secret_is_required() -> None:
    with pytest.raises(InvalidClient):
        flow().exchange(request(secret=None, grant_type="password", username="a", password="b"))
