"""JWT bearer flow (RFC 7523 §2.1, §3; salesforce-wire.md §2.3) through the ASGI app,
including the forged-assertion attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt as pyjwt
import pytest
from tests.conftest import FixedClock, make_settings
from tests.flows.conftest import KEY, KeyPair, World

from localforce.domain.models import PermittedUsers
from localforce.settings import Settings

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
INVALID = {"error": "invalid_grant", "error_description": "invalid assertion"}
NOT_APPROVED = {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
NOW = 1_790_000_000


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(home, jwt_audiences=["https://sso.example.com"])


@pytest.fixture
def approved(world: World) -> World:
    """The user approved the app earlier (e.g. in the web-server flow)."""
    world.services.oauth.consents.save_consent(world.user.id, world.app.id,
                                               ("api", "refresh_token", "id"), NOW - 100)
    return world


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": KEY, "sub": "admin@acme.test", "aud": "https://login.salesforce.com",
            "exp": NOW + 180}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(key_pair: KeyPair, **overrides: Any) -> str:
    return pyjwt.encode(claims(**overrides), key_pair.private_pem, algorithm="RS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], body: dict[str, Any], key: bytes | None = None) -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(body).encode())
    if key is None:
        return head + "."
    return head + "." + b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


def grant(world: World, assertion: str):  # type: ignore[no-untyped-def]
    return world.token(grant_type=GRANT, assertion=assertion)


def test_approved_user_gets_a_token_without_issued_at_or_signature(
        approved: World, key_pair: KeyPair) -> None:
    response = grant(approved, signed(key_pair))
    assert response.status_code == 200
    body = response.json()
    assert body == {"access_token": body["access_token"], "scope": "api refresh_token id",
                    "instance_url": "http://testserver", "id": approved.identity_url(),
                    "token_type": "Bearer"}
    assert approved.history()[-1]["status"] == "Success"


@pytest.mark.parametrize("exp", [NOW * 1000 + 300, str(NOW + 180), float(NOW + 60)])
def test_exp_in_milliseconds_or_as_a_numeric_string(approved: World, key_pair: KeyPair,
                                                    exp: Any) -> None:
    assert grant(approved, signed(key_pair, exp=exp)).status_code == 200


@pytest.mark.parametrize("aud", [
    "https://login.salesforce.com/", "https://test.salesforce.com",
    "https://acme.my.salesforce.com", "https://acme.my.salesforce.com/", "http://testserver",
    "http://testserver/", "https://sso.example.com", ["https://x.example", "https://test.salesforce.com"],
])
def test_accepted_audiences(approved: World, key_pair: KeyPair, aud: Any) -> None:
    assert grant(approved, signed(key_pair, aud=aud)).status_code == 200


def test_admin_approved_app_pre_authorizes_by_profile(world: World, key_pair: KeyPair) -> None:
    world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED,
                   authorized_profile_ids=(world.user.profile_id,))
    response = grant(world, signed(key_pair))
    assert response.status_code == 200
    assert response.json()["scope"] == "api refresh_token openid id web"


def test_admin_approved_app_refuses_unassigned_users(world: World, key_pair: KeyPair) -> None:
    world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED)
    response = grant(world, signed(key_pair))
    assert response.json() == {"error": "invalid_app_access",
                               "error_description": "user is not admin approved to access this app"}


def test_user_who_never_approved_the_app(world: World, key_pair: KeyPair) -> None:
    response = grant(world, signed(key_pair))
    assert (response.status_code, response.json()) == (400, NOT_APPROVED)


def test_unknown_subject_reads_the_same(approved: World, key_pair: KeyPair) -> None:
    assert grant(approved, signed(key_pair, sub="ghost@acme.test")).json() == NOT_APPROVED


def test_unknown_issuer(approved: World, key_pair: KeyPair) -> None:
    response = grant(approved, signed(key_pair, iss="3MVG9unknown"))
    assert response.json() == {"error": "invalid_client_id",
                               "error_description": "client identifier invalid"}


def test_alg_none_is_refused(approved: World) -> None:
    response = grant(approved, unsigned({"alg": "none"}, claims()))
    assert (response.status_code, response.json()) == (400, INVALID)


def test_hs256_keyed_with_the_certificate_is_refused(approved: World, key_pair: KeyPair) -> None:
    forged = unsigned({"alg": "HS256", "typ": "JWT"}, claims(),
                      key_pair.certificate_pem.encode())
    assert grant(approved, forged).json() == INVALID


def test_signature_by_another_key_is_refused(approved: World, other_key_pair: KeyPair) -> None:
    assert grant(approved, signed(other_key_pair)).json() == INVALID


def test_tampered_claims_are_refused(approved: World, key_pair: KeyPair) -> None:
    head, _, sig = signed(key_pair).split(".")
    body = b64(json.dumps(claims(sub="someone@else.test")).encode())
    assert grant(approved, f"{head}.{body}.{sig}").json() == INVALID


def test_wrong_audience_is_refused(approved: World, key_pair: KeyPair) -> None:
    response = grant(approved, signed(key_pair, aud="https://evil.example.com"))
    assert response.json() == {"error": "invalid_grant", "error_description": "audience is invalid"}


def test_expired_assertion_is_refused(approved: World, key_pair: KeyPair) -> None:
    response = grant(approved, signed(key_pair, exp=NOW - 120))
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "expired authorization code"}


def test_missing_exp_is_refused(approved: World, key_pair: KeyPair) -> None:
    assert grant(approved, signed(key_pair, exp=None)).json() == INVALID


def test_replayed_jti_is_refused(approved: World, key_pair: KeyPair, clock: FixedClock) -> None:
    assertion = signed(key_pair, jti="once")
    assert grant(approved, assertion).status_code == 200
    assert grant(approved, assertion).json() == INVALID
    clock.advance(30)
    assert grant(approved, signed(key_pair, jti="once", exp=NOW + 150)).json() == INVALID
    assert grant(approved, signed(key_pair, jti="twice")).status_code == 200


@pytest.mark.parametrize("claims", [{"exp": NOW + 50 * 365 * 86400}, {"exp": NOW + 241},
                                    {"exp": (NOW + 600) * 1000}, {"nbf": NOW + 120},
                                    {"iat": NOW + 120}, {"iat": "soon"}])
def test_an_assertion_living_too_long_or_not_yet_valid_is_refused(
        approved: World, key_pair: KeyPair, claims: dict[str, Any]) -> None:
    assert grant(approved, signed(key_pair, **claims)).json() == INVALID


def test_nbf_and_iat_within_the_skew_are_accepted(approved: World, key_pair: KeyPair) -> None:
    assert grant(approved, signed(key_pair, nbf=NOW + 30, iat=NOW - 5)).status_code == 200


def test_without_a_jti_the_lifetime_cap_bounds_replay(approved: World, key_pair: KeyPair,
                                                      clock: FixedClock) -> None:
    assertion = signed(key_pair, exp=NOW + 180)
    assert grant(approved, assertion).status_code == 200
    clock.advance(180 + 61)
    assert grant(approved, assertion).json()["error_description"] == "expired authorization code"


def test_app_without_certificate_cannot_use_the_flow(approved: World, key_pair: KeyPair) -> None:
    approved.save_app(certificate=None)
    assert grant(approved, signed(key_pair)).json() == INVALID


@pytest.mark.parametrize("assertion", ["", "garbage", "a.b.c", "e30.e30.e30"])
def test_malformed_assertions(approved: World, assertion: str) -> None:
    assert grant(approved, assertion).json() == INVALID


def test_a_signed_assertion_asking_for_an_extension_is_refused(approved: World,
                                                                key_pair: KeyPair) -> None:
    """RFC 7515 §4.1.11: ``crit`` names an extension this server does not understand (RFC
    7797's unencoded payload); validly signed, the assertion is refused all the same."""
    for header in ({"crit": ["b64"], "b64": False}, {"crit": ["exp"]}):
        assertion = pyjwt.encode(claims(), key_pair.private_pem, algorithm="RS256",
                                 headers=header)
        assert grant(approved, assertion).json() == INVALID
    assert "access_token" in grant(approved, signed(key_pair)).json()


def test_a_padded_signature_is_refused(approved: World, key_pair: KeyPair) -> None:
    """Base64url without padding (RFC 7515 §2): the same signature, padded, is refused."""
    head, _, signature = signed(key_pair).rpartition(".")
    padded = signature + "=" * (-len(signature) % 4)
    assert padded != signature
    assert grant(approved, f"{head}.{padded}").json() == INVALID
    assert "access_token" in grant(approved, f"{head}.{signature}").json()


def test_no_refresh_token(approved: World, key_pair: KeyPair) -> None:
    assert "refresh_token" not in grant(approved, signed(key_pair)).json()
