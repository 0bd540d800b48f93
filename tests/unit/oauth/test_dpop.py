"""DpopProofs from a memory replay store and a fixed clock: ``htu`` matched after RFC 3986
normalisation against the URL reached or the public URL (a proxy in front), the nonce's two
accepted steps, the jti remembered per key."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from localforce.oauth.dpop import NONCE_SECONDS, DpopProofs, normal_url
from localforce.oauth.errors import InvalidDpopProof, UseDpopNonce
from localforce.storage.memory.oauth_store import MemoryReplayStore

NOW = 1_790_000_000
KEY = ECKey.generate_key("P-256")
PUBLIC = "https://api.example.com"
REACHED = "http://10.0.0.5:8000/services/oauth2/token"


class Clock:
    now = float(NOW)

    def __call__(self) -> float:
        return self.now


def proofs(clock: Clock | None = None) -> DpopProofs:
    return DpopProofs(MemoryReplayStore(), b"k" * 32, PUBLIC, clock or Clock())


def proof(htu: str, **claims: Any) -> str:
    body = {"jti": secrets.token_hex(8), "htm": "POST", "htu": htu, "iat": NOW, **claims}
    return jws.serialize_compact({"typ": "dpop+jwt", "alg": "ES256",
                                  "jwk": KEY.as_dict(private=False)},
                                 json.dumps(body).encode(), KEY)


@pytest.mark.parametrize(("url", "normal"), [
    ("HTTPS://API.Example.com:443/a/b?x=1#f", "https://api.example.com/a/b"),
    ("http://h:80", "http://h/"),
    ("http://h:8080/p", "http://h:8080/p"),
    ("ftp://h/p", None),
    ("/relative", None),
    ("http://h:99999/", None),
])
def test_normal_url(url: str, normal: str | None) -> None:
    assert normal_url(url) == normal


@pytest.mark.parametrize("htu", [REACHED, "HTTP://10.0.0.5:8000/services/oauth2/token?q=1",
                                 "https://api.example.com/services/oauth2/token",
                                 "https://API.example.com:443/services/oauth2/token#f"])
def test_htu_names_the_url_reached_or_the_public_one(htu: str) -> None:
    assert proofs().verify(proof(htu), "POST", REACHED) == KEY.thumbprint()


@pytest.mark.parametrize("htu", ["https://evil.example.com/services/oauth2/token",
                                 "https://api.example.com/services/oauth2/introspect",
                                 "http://api.example.com/services/oauth2/token", "token"])
def test_any_other_htu_is_refused(htu: str) -> None:
    with pytest.raises(InvalidDpopProof, match="htu"):
        proofs().verify(proof(htu), "POST", REACHED)


def test_the_nonce_of_this_step_and_the_last_are_accepted() -> None:
    clock = Clock()
    checker = proofs(clock)
    nonce = checker.nonce()
    clock.now += NONCE_SECONDS
    assert checker.verify(proof(REACHED, nonce=nonce, iat=int(clock.now)), "POST", REACHED,
                          require_nonce=True)
    clock.now += NONCE_SECONDS
    with pytest.raises(UseDpopNonce) as refused:
        checker.verify(proof(REACHED, nonce=nonce, iat=int(clock.now)), "POST", REACHED)
    assert refused.value.headers() == {"DPoP-Nonce": checker.nonce()}
    # Another server key never makes the same nonce.
    other = DpopProofs(MemoryReplayStore(), b"o" * 32, PUBLIC, clock)
    assert other.nonce() != checker.nonce()


def test_a_jti_is_once_per_key() -> None:
    checker = proofs()
    same = proof(REACHED, jti="one")
    checker.verify(same, "POST", REACHED)
    with pytest.raises(InvalidDpopProof, match="jti"):
        checker.verify(same, "POST", REACHED)
    other = ECKey.generate_key("P-256")
    body = {"jti": "one", "htm": "POST", "htu": REACHED, "iat": NOW}
    by_other = jws.serialize_compact({"typ": "dpop+jwt", "alg": "ES256",
                                      "jwk": other.as_dict(private=False)},
                                     json.dumps(body).encode(), other)
    assert checker.verify(by_other, "POST", REACHED) == other.thumbprint()
