"""Random secrets and their digests. Only digests of bearer secrets are ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def random_token(nbytes: int = 48) -> str:
    """URL-safe random text without padding ([A-Za-z0-9_-])."""
    return secrets.token_urlsafe(nbytes)


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def digest(value: str) -> str:
    """SHA-256 hex digest: the storage key of tokens, codes and device codes."""
    return hashlib.sha256(value.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
