"""security/tokens.py: stamped access and refresh tokens, and the digests they are stored by."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from localforce.security.tokens import access_token, digest, refresh_token


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_a_stamped_access_token_fits_sfdx_and_leads_its_digest_with_its_stamp() -> None:
    before = time.time_ns() // 1_000_000
    token = access_token("00D5g000004SfmE")
    after = time.time_ns() // 1_000_000
    assert re.fullmatch(r"00D5g000004SfmE!AQ[0-9a-f]{12}[.\w]{82}", token)
    assert before <= int(token[18:30], 16) <= after
    assert digest(token) == token[18:30] + sha256(token)[:52]


def test_a_stamped_refresh_token_fits_sfdx_auth_urls_and_leads_its_digest_with_its_stamp() -> None:
    token = refresh_token()
    assert re.fullmatch(r"5Aep861[0-9a-f]{12}[\w-]{72}", token)
    assert digest(token) == token[7:19] + sha256(token)[:52]


def test_digests_of_tokens_minted_one_after_another_sort_in_that_order() -> None:
    """By their stamps (within one millisecond, by their hash): what keeps a store's index on
    them growing at its end."""
    keys = [digest(access_token("00D5g000004SfmE")) for _ in range(300)]
    keys += [digest(refresh_token()) for _ in range(300)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
    stamps = [key[:12] for key in keys]
    assert stamps[:300] == sorted(stamps[:300]) and stamps[300:] == sorted(stamps[300:])
    assert len(set(keys)) == len(keys)


def test_tokens_minted_before_stamps_keep_their_plain_sha256_digests() -> None:
    """The shapes before (114 and 93 characters) are still found by the digests they were
    stored under."""
    old_access = "00D5g000004SfmE!AQ" + secrets.token_urlsafe(72).replace("-", ".")
    old_refresh = "5Aep861" + secrets.token_urlsafe(64)
    assert (len(old_access), len(old_refresh)) == (114, 93)
    assert digest(old_access) == sha256(old_access)
    assert digest(old_refresh) == sha256(old_refresh)


def test_other_secrets_keep_plain_sha256_digests() -> None:
    for value in ("", "code", "x" * 112, "00D5g000004SfmE!AR" + "0" * 94, "5Aep862" + "0" * 84):
        assert digest(value) == sha256(value)
