"""The JWT bearer flow's reading of an assertion (oauth/flows/jwt_bearer.py
``compact_rs256``): RS256 in compact serialization only, each segment canonical base64url
without padding, no extension asked for; anything else is ``Malformed`` before any key is
looked at."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from localforce.oauth.flows.jwt_bearer import MAX_ASSERTION, Malformed, compact_rs256

CLAIMS = {"iss": "key", "sub": "admin@acme.test", "exp": 1_790_000_180}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(json.dumps(value).encode())


def assertion(header: Any = None, claims: Any = None, signature: str = "c2ln") -> str:
    return ".".join((segment({"alg": "RS256"} if header is None else header),
                     segment(CLAIMS if claims is None else claims), signature))


def test_the_signing_input_claims_and_signature() -> None:
    text = assertion(signature=b64(b"\x01\x02\x03\x04"))
    signed, claims, signature = compact_rs256(text)
    assert signed == text.rsplit(".", 1)[0].encode()
    assert claims == CLAIMS
    assert signature == b"\x01\x02\x03\x04"


@pytest.mark.parametrize("header", [
    {"alg": "none"}, {"alg": "HS256"}, {"alg": "rs256"}, {"typ": "JWT"}, {"alg": ["RS256"]},
    {"alg": "RS256", "crit": ["exp"]}, {"alg": "RS256", "b64": False},
    ["alg", "RS256"], "RS256",
])
def test_only_rs256_without_extensions(header: Any) -> None:
    with pytest.raises(Malformed):
        compact_rs256(assertion(header=header))


@pytest.mark.parametrize("text", [
    "", "garbage", "a.b", "a.b.c.d", "a.b.c", "e30.e30.e30", "...",
    assertion(claims=["not", "an", "object"]),
    assertion() + ".extra",
    assertion().replace(".", "..", 1),
    "é" + assertion(),  # not ASCII
    segment({"alg": "RS256"}) + "." + b64(b"\xff\xfe{}") + ".c2ln",  # claims not UTF-8
])
def test_malformed(text: str) -> None:
    with pytest.raises(Malformed):
        compact_rs256(text)


@pytest.mark.parametrize("signature", [
    "c2lnbg==",  # padded
    "c2lnb+/_",  # the other alphabet
    "c2lnbm",  # non-canonical: the same bytes as "c2lnbg"
    "c2lnb",  # a length no encoding has
    "c2ln bg",  # a space
])
def test_a_signature_segment_not_canonical_base64url(signature: str) -> None:
    with pytest.raises(Malformed):
        compact_rs256(assertion(signature=signature))


def test_a_padded_header_is_refused() -> None:
    padded = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "x": "abc"}).encode()).decode()
    assert padded.endswith("=")
    with pytest.raises(Malformed):
        compact_rs256(padded + "." + segment(CLAIMS) + ".c2ln")


def test_an_assertion_too_long_is_refused_unread() -> None:
    long_claims = {**CLAIMS, "pad": "x" * MAX_ASSERTION}
    with pytest.raises(Malformed):
        compact_rs256(assertion(claims=long_claims))
