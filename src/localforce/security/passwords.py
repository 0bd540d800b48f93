"""User passwords: argon2id with OWASP's minimum parameters (m=19 MiB, t=2, p=1).

Each hash or verification holds a 19 MiB working set. Run by every threadpool thread at once,
they pushed a worker's RSS up many times (glibc keeps an arena per thread) and each one ran
slower, out of cache. So argon2 runs on a small pool — about one thread per
core across the server's workers (``share_cores``): callers (the login threads, never the event
loop) wait for it, and only those few threads ever hold the working set (bench/README.md,
"password grant").
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
OWASP_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

T = TypeVar("T")


_threads = os.cpu_count() or 1


def share_cores(processes: int) -> None:
    """Size this process's argon2 pool as one of ``processes`` server workers on this machine,
    so that together they hash on about one thread per core: more hashes at once than cores
    only take turns, evict each other's 19 MiB from the cache, and add 19 MiB to a worker's
    peak RSS each. Call before the first hash (bootstrap does)."""
    global _threads
    _threads = max(1, (os.cpu_count() or 1) // max(1, processes))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The argon2 threads (started on first use)."""
    return ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="argon2")


def _on_pool(work: Callable[..., T], *args: str) -> T:
    return _pool().submit(work, *args).result()


@functools.cache
def _dummy_hash() -> str:
    """A fixed hash to verify against when the user does not exist, so that an unknown
    username costs the same time as a wrong password. Made on first use, not at import
    (start-up time)."""
    return _on_pool(OWASP_HASHER.hash, "localforce-dummy-password")


def hash_password(password: str, hasher: PasswordHasher = OWASP_HASHER) -> str:
    return _on_pool(hasher.hash, password)


def verify_password(stored_hash: str | None, password: str,
                    hasher: PasswordHasher = OWASP_HASHER) -> bool:
    """Constant-work check: an absent hash still runs one verification."""
    candidate = stored_hash or _dummy_hash()
    try:
        return _on_pool(hasher.verify, candidate, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
