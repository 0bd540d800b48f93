"""AuthorizationCodeFlow built from fakes of its Protocols (Clients, Codes, AppLookup,
UserLookup, FamilyRevoker, TokenWriter, a clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    NOW,
    SECRET,
    USER,
    Clients,
    Codes,
    Directory,
    Issuer,
    Tokens,
    clock,
    request,
)

from localforce.oauth.artifacts import AuthorizationCode
from localforce.oauth.errors import (
    InactiveUser,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    RedirectUriMismatch,
)
from localforce.oauth.flows.authorization_code import EXPIRED, INVALID, AuthorizationCodeFlow
from localforce.oauth.issuing import IssuePolicy
from localforce.security.tokens import digest

CODE = "aPrxcode"
CALLBACK = "https://app.example/cb"
ISSUED = AuthorizationCode(digest(CODE), APP.id, USER.id, CALLBACK, ("api", "refresh_token"),
                           None, None, "n-1", "family-1", NOW - 10, NOW + 890)


def flow(code=ISSUED, app=APP, users=None, codes=None, tokens=None,  # type: ignore[no-untyped-def]
         issuer=None):
    directory = Directory(users=users or [USER], apps=[app])
    return AuthorizationCodeFlow(Clients(app), codes or Codes({code.digest: code}), directory,
                                 directory, tokens or Tokens(), issuer or Issuer(), clock)


def redeem(**params: str):  # type: ignore[no-untyped-def]
    return request(**{"grant_type": "authorization_code", "code": CODE,
                      "redirect_uri": CALLBACK, **params})


def test_a_code_is_redeemed_once_into_its_familys_tokens() -> None:
    codes, issuer = Codes({ISSUED.digest: ISSUED}), Issuer()
    flow(codes=codes, issuer=issuer).exchange(redeem())
    assert codes.codes[ISSUED.digest].consumed_at == NOW
    assert issuer.issued == [(APP.id, USER.id, ISSUED.scopes, IssuePolicy(
        "authorization_code", with_refresh=True, family_id="family-1", nonce="n-1"), SECRET)]


def test_a_replayed_code_revokes_what_it_produced() -> None:
    tokens = Tokens()
    with pytest.raises(InvalidGrant) as raised:
        flow(replace(ISSUED, consumed_at=NOW - 5), tokens=tokens).exchange(redeem())
    assert raised.value.description == EXPIRED and tokens.revoked_families == ["family-1"]


def test_losing_the_redemption_race_is_a_replay() -> None:
    tokens = Tokens()
    with pytest.raises(InvalidGrant):
        flow(codes=Codes({ISSUED.digest: ISSUED}, lose_race=True), tokens=tokens).exchange(
            redeem())
    assert tokens.revoked_families == ["family-1"]


def test_another_apps_code_is_as_good_as_none() -> None:
    with pytest.raises(InvalidGrant) as raised:
        flow(replace(ISSUED, app_id="0H4000000000009AAA")).exchange(redeem())
    assert raised.value.description == INVALID


def test_expired_wrong_redirect_missing_code() -> None:
    with pytest.raises(InvalidGrant):
        flow(replace(ISSUED, expires_at=NOW)).exchange(redeem())
    with pytest.raises(RedirectUriMismatch):
        flow().exchange(redeem(redirect_uri="https://evil.example/cb"))
    with pytest.raises(InvalidRequest):
        flow().exchange(request(grant_type="authorization_code", redirect_uri=CALLBACK))


def test_an_inactive_user_gets_nothing() -> None:
    issuer = Issuer()
    with pytest.raises(InactiveUser):
        flow(users=[replace(USER, active=False)], issuer=issuer).exchange(redeem())
    assert issuer.issued == []


def test_the_secret_unless_the_app_waives_it() -> None:
    with pytest.raises(InvalidClient):
        flow().exchange(redeem(secret=None))
    issuer = Issuer()
    flow(app=replace(APP, require_secret_web_server=False), issuer=issuer).exchange(
        redeem(secret=None))
    assert issuer.issued[0][4] is None  # the issuer opens the app's secret itself
