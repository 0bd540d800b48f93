"""RefreshTokenFlow built from fakes of its Protocols (Clients, RefreshTokens, UserLookup,
LoginPolicy, TokenWriter, a clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    NOW,
    SECRET,
    USER,
    Clients,
    Directory,
    Issuer,
    Logins,
    Tokens,
    clock,
    request,
)

from localforce.domain.models import IpRelaxation
from localforce.oauth.errors import InactiveUser, InvalidGrant, InvalidScope
from localforce.oauth.flows.refresh_token import EXPIRED, RefreshTokenFlow
from localforce.oauth.issuing import IssuePolicy
from localforce.oauth.ports import REFRESH, TokenRecord
from localforce.security.tokens import digest

TOKEN = "5Aep861refresh"
RECORD = TokenRecord(digest(TOKEN), REFRESH, USER.org_id, USER.id, APP.id,
                     ("api", "refresh_token"), "family-1", "authorization_code", NOW - 60,
                     NOW - 60, expires_at=NOW + 3600)


def flow(app=APP, tokens=None, logins=None, issuer=None):  # type: ignore[no-untyped-def]
    return RefreshTokenFlow(Clients(app), tokens or Tokens({RECORD.digest: RECORD}),
                            Directory(), logins or Logins(), issuer or Issuer(), clock)


def refresh(**params: str):  # type: ignore[no-untyped-def]
    return request(grant_type="refresh_token", refresh_token=TOKEN, **params)


def test_without_rotation_the_token_is_touched_and_an_access_token_issued() -> None:
    tokens, logins, issuer = Tokens({RECORD.digest: RECORD}), Logins(), Issuer()
    flow(tokens=tokens, logins=logins, issuer=issuer).exchange(refresh(scope="api"))
    assert tokens.touched == [RECORD.digest]
    assert issuer.issued == [(APP.id, USER.id, ("api",), IssuePolicy(
        "refresh_token", family_id="family-1", parent_digest=RECORD.digest), SECRET)]
    # the login rules first (refusals recorded), the success row once the token is good
    assert logins.names() == ["check", "refreshed"]


def test_with_rotation_a_new_refresh_token_keeps_the_grants_scope_and_end() -> None:
    tokens, issuer = Tokens({RECORD.digest: RECORD}), Issuer()
    flow(replace(APP, rotate_refresh_tokens=True), tokens, issuer=issuer).exchange(
        refresh(scope="api"))
    assert tokens.records[RECORD.digest].rotated_at == NOW
    assert issuer.issued == [(APP.id, USER.id, ("api",), IssuePolicy(
        "refresh_token", with_refresh=True, family_id="family-1",
        refresh_scopes=RECORD.scopes, refresh_expires_at=RECORD.expires_at), SECRET)]


def test_a_rotated_token_presented_again_revokes_its_family() -> None:
    tokens = Tokens({RECORD.digest: replace(RECORD, rotated_at=NOW - 5)})
    with pytest.raises(InvalidGrant) as raised:
        flow(tokens=tokens).exchange(refresh())
    assert raised.value.description == EXPIRED and tokens.revoked_families == ["family-1"]


def test_losing_the_rotation_race_is_a_replay() -> None:
    tokens, logins = Tokens({RECORD.digest: RECORD}, lose_rotation_race=True), Logins()
    with pytest.raises(InvalidGrant):
        flow(replace(APP, rotate_refresh_tokens=True), tokens, logins).exchange(refresh())
    assert tokens.revoked_families == ["family-1"] and logins.names() == ["check"]


@pytest.mark.parametrize("record", [replace(RECORD, app_id="0H4000000000009AAA"),
                                   replace(RECORD, kind="access"),
                                   replace(RECORD, expires_at=NOW),
                                   replace(RECORD, revoked_at=NOW - 1),
                                   replace(RECORD, user_id="005000000000404AAA")])
def test_dead_foreign_or_orphan_tokens_are_expired(record: TokenRecord) -> None:
    issuer = Issuer()
    with pytest.raises(InvalidGrant) as raised:
        flow(tokens=Tokens({record.digest: record}), issuer=issuer).exchange(refresh())
    assert raised.value.description == EXPIRED and issuer.issued == []


def test_a_wider_scope_is_invalid_scope() -> None:
    with pytest.raises(InvalidScope):
        flow().exchange(refresh(scope="api full"))


@pytest.mark.parametrize(("relaxation", "relaxed"), [(IpRelaxation.ENFORCE, False),
                                                     (IpRelaxation.ENFORCE_RELAX_REFRESH, True),
                                                     (IpRelaxation.RELAX, True)])
def test_ip_rules_relaxed_for_refresh_as_the_app_says(relaxation: IpRelaxation,
                                                      relaxed: bool) -> None:
    logins = Logins()
    flow(replace(APP, ip_relaxation=relaxation), logins=logins).exchange(refresh())
    assert logins.calls[0][2].relax_ip is relaxed


def test_a_refused_login_leaves_the_token_alone() -> None:
    tokens, logins = Tokens({RECORD.digest: RECORD}), Logins(refuse=InactiveUser())
    with pytest.raises(InactiveUser):
        flow(replace(APP, rotate_refresh_tokens=True), tokens, logins).exchange(refresh())
    assert tokens.records[RECORD.digest].rotated_at is None and logins.names() == ["check"]


def test_a_public_client_refreshes_without_a_secret_and_the_issuer_opens_none() -> None:
    issuer = Issuer()
    flow(replace(APP, require_secret_refresh=False), issuer=issuer).exchange(
        request(secret=None, grant_type="refresh_token", refresh_token=TOKEN))
    assert issuer.issued[0][4] is None
