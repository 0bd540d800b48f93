"""ClientCredentialsFlow built from fakes of its Protocols (Clients, UserLookup, LoginPolicy,
TokenWriter)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    SECRET,
    USER,
    Clients,
    Directory,
    Issuer,
    Logins,
    request,
)

from localforce.oauth.errors import InvalidClient, InvalidGrant, InvalidScope, RateLimitExceeded
from localforce.oauth.flows.client_credentials import ISSUE, NO_RUN_AS, ClientCredentialsFlow

RUN_AS = replace(APP, scopes=("api", "refresh_token", "full", "openid"),
                 enable_client_credentials=True, run_as_user_id=USER.id)


def flow(app=RUN_AS, logins=None, issuer=None):  # type: ignore[no-untyped-def]
    return ClientCredentialsFlow(Clients(app), Directory(), logins or Logins(),
                                 issuer or Issuer())


def test_issues_as_the_run_as_user_with_the_presented_secret() -> None:
    logins, issuer = Logins(), Issuer()
    flow(logins=logins, issuer=issuer).exchange(request(grant_type="client_credentials"))
    # full, refresh_token (and web, offline_access) never go to a client-credentials token
    assert issuer.issued == [(APP.id, USER.id, ("api", "openid"), ISSUE, SECRET)]
    assert not ISSUE.with_refresh and not ISSUE.with_id_token and ISSUE.signed
    (name, user_id, context), = logins.calls
    assert (name, user_id, context.run_as, context.app) == ("admit", USER.id, True, RUN_AS)


def test_the_secret_is_required() -> None:
    with pytest.raises(InvalidClient):
        flow().exchange(request(secret=None, grant_type="client_credentials"))


@pytest.mark.parametrize("app", [replace(RUN_AS, enable_client_credentials=False),
                                 replace(RUN_AS, run_as_user_id=None),
                                 replace(RUN_AS, run_as_user_id="005000000000404AAA"),
                                 replace(RUN_AS, org_id="00D000000000002AAA")])
def test_no_run_as_user(app) -> None:  # type: ignore[no-untyped-def]
    issuer = Issuer()
    with pytest.raises(InvalidGrant) as raised:
        flow(app, issuer=issuer).exchange(request(grant_type="client_credentials"))
    assert raised.value.description == NO_RUN_AS and issuer.issued == []


def test_an_excluded_scope_asked_for_is_invalid_scope() -> None:
    with pytest.raises(InvalidScope):
        flow().exchange(request(grant_type="client_credentials", scope="api refresh_token"))


def test_a_refused_login_issues_nothing() -> None:
    issuer = Issuer()
    with pytest.raises(RateLimitExceeded):
        flow(logins=Logins(refuse=RateLimitExceeded()), issuer=issuer).exchange(
            request(grant_type="client_credentials"))
    assert issuer.issued == []
