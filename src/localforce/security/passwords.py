"""User passwords: argon2id with OWASP's minimum parameters (m=19 MiB, t=2, p=1)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
OWASP_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# A fixed hash to verify against when the user does not exist, so that an unknown username
# costs the same time as a wrong password.
_DUMMY_HASH = OWASP_HASHER.hash("localforce-dummy-password")


def hash_password(password: str, hasher: PasswordHasher = OWASP_HASHER) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str,
                    hasher: PasswordHasher = OWASP_HASHER) -> bool:
    """Constant-work check: an absent hash still runs one verification."""
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
