"""Random secrets and their digests. Only digests of bearer secrets are ever stored.

Access and refresh tokens carry a stamp: the millisecond they were minted, as 12 hex digits
right after their fixed prefix. Their digest — the storage key — leads with the stamp, then
the first 52 hex digits of their SHA-256, so a store's index on the key receives new tokens in
time order: each insert lands on the index's last page, not on a random page of a large table
(bench/README.md, twenty-second pass). The stamp is no secret (``issued_at`` says as much); the
rest of the token is 488 (access) or 432 (refresh) random bits, of which only the hash is kept.
Tokens minted before stamps have other lengths and keep their plain SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time

_ALNUM = string.ascii_letters + string.digits

#: ``{orgId15}!AQ`` + stamp + 82 characters: sfdx-core's ``/(00D\w{12,15})![.\w]*/``.
_ACCESS_LENGTH, _ACCESS_MARK = 112, "!AQ"
_ACCESS_MARK_AT = 15
_ACCESS_STAMP_AT = _ACCESS_MARK_AT + len(_ACCESS_MARK)
#: ``5Aep861`` + stamp + 72 characters of ``[A-Za-z0-9_-]`` (Salesforce's refresh tokens
#: begin so; sfdx auth URLs need the alphabet).
_REFRESH_LENGTH, _REFRESH_PREFIX = 91, "5Aep861"
_STAMP_DIGITS, _HASH_DIGITS = 12, 52


def random_token(nbytes: int = 48) -> str:
    """URL-safe random text without padding ([A-Za-z0-9_-])."""
    return secrets.token_urlsafe(nbytes)


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _stamp() -> str:
    return f"{time.time_ns() // 1_000_000:0{_STAMP_DIGITS}x}"


def access_token(org_id15: str) -> str:
    """An opaque access token (also a SOAP session id) of the org whose 15-character Id
    leads it; ``-`` becomes ``.`` for sfdx's ``[.\\w]``."""
    return f"{org_id15}{_ACCESS_MARK}{_stamp()}{secrets.token_urlsafe(61).replace('-', '.')}"


def refresh_token() -> str:
    return f"{_REFRESH_PREFIX}{_stamp()}{secrets.token_urlsafe(54)}"


def digest(value: str) -> str:
    """The storage key of tokens, codes and device codes: SHA-256 in hex, led by the stamp for
    a stamped access or refresh token (64 characters either way)."""
    hashed = hashlib.sha256(value.encode()).hexdigest()
    size = len(value)
    if size == _ACCESS_LENGTH and value[_ACCESS_MARK_AT:_ACCESS_STAMP_AT] == _ACCESS_MARK:
        at = _ACCESS_STAMP_AT
    elif size == _REFRESH_LENGTH and value.startswith(_REFRESH_PREFIX):
        at = len(_REFRESH_PREFIX)
    else:
        return hashed
    return value[at:at + _STAMP_DIGITS] + hashed[:_HASH_DIGITS]


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
