"""oauth/issuing.py: the Salesforce signature, token shapes, at_hash."""

from __future__ import annotations

import re
import time

from localforce.oauth.issuing import (
    at_hash,
    new_access_token,
    new_family_id,
    new_refresh_token,
    signature,
)


def test_signature_test_vector() -> None:
    """salesforce-wire.md §3: Base64(HMAC-SHA256(secret, id + issued_at))."""
    assert signature("https://login.salesforce.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU",
                     "1278448832702", "1234567890123456789") == (
        "WHgYZJQqrNPArqYdf0KgCRemraqz9QvaXXCPg/c2Ug8=")


def test_access_token_matches_sfdx_regex() -> None:
    token = new_access_token("00D5g000004SfmEEAS")
    assert re.fullmatch(r"(00D\w{12,15})![.\w]*", token)
    assert token.startswith("00D5g000004SfmE!")


def test_refresh_token_fits_sfdx_auth_urls() -> None:
    assert re.fullmatch(r"[A-Za-z0-9._-]+", new_refresh_token())


def test_family_ids_fit_the_column_and_sort_in_the_order_they_were_made() -> None:
    """32 hex digits (``tokens.family_id`` is String(32)), unique, and led by the time they
    were made (microseconds), so the index on them grows at its end."""
    before = time.time_ns() // 1000
    made = [new_family_id() for _ in range(2000)]
    after = time.time_ns() // 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", family) for family in made)
    assert len(set(made)) == len(made)
    stamps = [int(family[:14], 16) for family in made]
    assert stamps == sorted(stamps) and before <= stamps[0] and stamps[-1] <= after
    assert len({family[14:] for family in made}) == len(made)  # the random part differs


def test_at_hash_is_the_left_half_of_sha256() -> None:
    # OIDC Core §3.1.3.6, checked against an independent computation.
    import base64
    import hashlib
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()[:16]).rstrip(b"=")
    assert at_hash("tok") == expected.decode()
