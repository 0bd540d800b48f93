"""RFC 7636 with Salesforce's dialect: absent method is S256, plain refused, long verifiers."""

from __future__ import annotations

import base64
import secrets

import pytest

from localforce.oauth import pkce
from localforce.oauth.errors import InvalidGrant, InvalidRequest

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def jsforce_verifier() -> str:
    """jsforce: base64url of 128 random bytes, 171 characters (clients.md §0 row 4)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(128)).rstrip(b"=").decode()


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce.s256(RFC_VERIFIER) == RFC_CHALLENGE


def test_absent_method_means_s256() -> None:
    assert pkce.check_challenge(RFC_CHALLENGE, None) == (RFC_CHALLENGE, "S256")
    assert pkce.check_challenge(RFC_CHALLENGE, "S256") == (RFC_CHALLENGE, "S256")


def test_no_challenge_is_none() -> None:
    assert pkce.check_challenge(None, None) is None
    assert pkce.check_challenge("", None) is None


@pytest.mark.parametrize("method", ["plain", "s256", "S512"])
def test_other_methods_are_refused(method: str) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(RFC_CHALLENGE, method)


@pytest.mark.parametrize("challenge", ["short", RFC_CHALLENGE + "A", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"])
def test_malformed_challenges_are_refused(challenge: str) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge(challenge, None)


def test_method_without_challenge_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="missing required code challenge"):
        pkce.check_challenge(None, "S256")


def test_rfc_verifier_verifies() -> None:
    pkce.verify(RFC_VERIFIER, RFC_CHALLENGE, "S256")


def test_171_character_jsforce_verifier_verifies() -> None:
    verifier = jsforce_verifier()
    assert len(verifier) == 171
    pkce.verify(verifier, pkce.s256(verifier), None)


def test_wrong_verifier_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant, match="invalid code verifier"):
        pkce.verify(jsforce_verifier(), RFC_CHALLENGE, "S256")


def test_missing_verifier_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant):
        pkce.verify(None, RFC_CHALLENGE, "S256")


def test_verifier_without_challenge_is_a_refused_downgrade() -> None:
    with pytest.raises(InvalidGrant, match="invalid code verifier"):
        pkce.verify(RFC_VERIFIER, None, None)


def test_no_challenge_and_no_verifier_passes() -> None:
    pkce.verify(None, None, None)


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 42 + "!", "a" * 1025])
def test_verifier_outside_the_grammar_is_refused(verifier: str) -> None:
    with pytest.raises(InvalidGrant):
        pkce.verify(verifier, pkce.s256(verifier), "S256")
