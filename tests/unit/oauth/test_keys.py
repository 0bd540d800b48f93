"""oauth/keys.py: the signing keys of id_tokens and JWT access tokens, and their rotation."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.conftest import FixedClock

from localforce.bootstrap import Services
from localforce.oauth.keys import CACHE_SECONDS, LONGEST_SESSION

DAY = 86400


def kids(services: Services) -> list[str]:
    return [k["kid"] for k in services.oauth.keys.jwks()["keys"]]


def signing_kid(services: Services) -> str:
    token = services.oauth.keys.sign({"sub": "x"})
    return str(jwt.decode(token, KeySet.import_key_set(services.oauth.keys.jwks())).header["kid"])


def test_first_use_creates_a_key_and_publishes_it(services: Services) -> None:
    assert kids(services) == []
    kid = signing_kid(services)
    assert kids(services) == [kid]


def test_rotation_publishes_the_next_key_before_using_it(services: Services,
                                                          clock: FixedClock) -> None:
    old = signing_kid(services)
    new = services.oauth.keys.rotate(publish_ahead=DAY).kid
    assert kids(services) == [old, new]          # published at once
    assert signing_kid(services) == old          # not used yet
    clock.advance(DAY)
    assert signing_kid(services) == new          # now it signs
    assert kids(services) == [old, new]          # old kept while its tokens may live
    clock.advance(LONGEST_SESSION + CACHE_SECONDS)
    assert kids(services) == [new]               # old retired after its last token expired


def test_a_jwt_access_token_signed_before_the_switch_verifies_until_it_expires(
        services: Services, clock: FixedClock) -> None:
    keys = services.oauth.keys
    old = signing_kid(services)
    switch = int(clock()) + DAY
    keys.rotate(publish_ahead=DAY)
    clock.advance(DAY - 1)  # the old key's last second: an RFC 9068 token of a 24 h session
    token = keys.sign({"sub": "x", "exp": switch - 1 + LONGEST_SESSION}, typ="at+jwt")
    clock.advance(LONGEST_SESSION - 2 - CACHE_SECONDS)  # its last seconds, a fresh JWKS read
    keys.retire_expired()
    verified = jwt.decode(token, KeySet.import_key_set(keys.jwks()))
    assert (verified.header["kid"], verified.claims["sub"]) == (old, "x")


def test_private_keys_are_stored_sealed(services: Services) -> None:
    signing_kid(services)
    from sqlalchemy import select

    from localforce.storage.sql import tables as t
    with services.engine.connect() as c:
        sealed = c.execute(select(t.signing_keys.c.private_key_sealed)).scalar_one()
    assert "PRIVATE KEY" not in sealed and sealed.startswith("v1:")
