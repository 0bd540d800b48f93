"""User passwords: argon2id with OWASP's minimum parameters (m=19 MiB, t=2, p=1).

Each hash or verification holds a 19 MiB working set. Run by every threadpool thread at once,
they pushed a worker's RSS up many times (glibc keeps an arena per thread) and each one ran
slower, out of cache. So argon2 runs on a small pool — about one thread per
core across the server's workers (``share_cores``): callers (the login threads, never the event
loop) wait for it, and only those few threads ever hold the working set (bench/README.md,
"password grant"). A verification's working set is a block each argon2 thread allocates once
and keeps (``_verify``): allocated and freed by glibc at every login, it stayed in the thread's
arena twice over while logins ran beside other requests (bench/README.md, fifteenth pass).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import Parameters, PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import core, error_to_str, ffi

#: argon2.h's ARGON2_OK, ARGON2_MEMORY_ALLOCATION_ERROR and ARGON2_DEFAULT_FLAGS (argon2-cffi
#: does not re-export its bindings' ``lib``; tests/unit/security/test_passwords.py checks them).
ARGON2_OK, ARGON2_MEMORY_ALLOCATION_ERROR, ARGON2_DEFAULT_FLAGS = 0, -22, 0

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


#: How far below the server's other threads the argon2 threads run (their ``nice``): a hash
#: takes the CPU the requests leave, so that logins, or someone guessing passwords, slow the
#: API's answers less; alone, logins run as fast as before.
ARGON2_NICE = 10


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """The argon2 threads (started on first use)."""
    return ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="argon2",
                              initializer=_lower_priority)


def _lower_priority() -> None:
    """This thread's ``nice`` ``ARGON2_NICE`` above the process's (Linux: per thread)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid,
                       min(19, os.getpriority(os.PRIO_PROCESS, tid) + ARGON2_NICE))
    except (AttributeError, OSError):  # no per-thread priority here: the process's
        pass


def _on_pool(work: Callable[..., T], *args: object) -> T:
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
        return _on_pool(_verify, hasher, candidate, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _verify(hasher: PasswordHasher, encoded: str, password: str) -> bool:
    """``hasher.verify(encoded, password)``, computed as ``argon2_verify`` does in C — the
    parameters, salt and tag read from the encoded hash, the tag computed again and compared
    in constant time — but in this thread's kept block. Any encoding this does not read (no
    ``v=``, say) goes to ``hasher.verify`` itself."""
    try:
        params = extract_parameters(encoded)
        _, _, _, _, salt, tag = encoded.split("$")
        salt_bytes, tag_bytes = _b64decode(salt), _b64decode(tag)
        callbacks = _kept_block_callbacks()
    except (InvalidHashError, ValueError, binascii.Error, MemoryError):
        return hasher.verify(encoded, password)
    computed = _tag(password.encode(), salt_bytes, params, len(tag_bytes), callbacks)
    if not hmac.compare_digest(computed, tag_bytes):
        raise VerifyMismatchError()
    return True


def _b64decode(text: str) -> bytes:
    """The PHC string's base64: the standard alphabet, no padding, canonical (as argon2's
    decoder reads it; anything else is left to it)."""
    raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if base64.b64encode(raw).rstrip(b"=").decode() != text:
        raise binascii.Error("not canonical unpadded base64")
    return raw


def _tag(secret: bytes, salt: bytes, params: Parameters, tag_len: int,
         callbacks: tuple[Any, Any]) -> bytes:
    """argon2's raw tag through ``argon2_ctx``, its memory from ``callbacks``."""
    out = ffi.new("uint8_t[]", tag_len)
    secret_buffer, salt_buffer = ffi.new("uint8_t[]", secret), ffi.new("uint8_t[]", salt)
    context = ffi.new("argon2_context *", {
        "out": out, "outlen": tag_len, "pwd": secret_buffer, "pwdlen": len(secret),
        "salt": salt_buffer, "saltlen": len(salt), "secret": ffi.NULL, "secretlen": 0,
        "ad": ffi.NULL, "adlen": 0, "t_cost": params.time_cost, "m_cost": params.memory_cost,
        "lanes": params.parallelism, "threads": params.parallelism, "version": params.version,
        "allocate_cbk": callbacks[0], "free_cbk": callbacks[1],
        "flags": ARGON2_DEFAULT_FLAGS})
    result = core(context, params.type.value)
    if result != ARGON2_OK:
        raise VerificationError(error_to_str(result))
    return bytes(ffi.buffer(out, tag_len))


#: Each argon2 thread's working block (``block``), allocated at its first verification.
_kept = threading.local()


@functools.cache
def _kept_block_callbacks() -> tuple[Any, Any]:
    """argon2's allocate and free callbacks: the calling thread's kept block (a larger one
    when a hash asks for more memory), never freed; argon2 wipes it before it calls free."""
    return (ffi.callback("int(uint8_t **, size_t)", _allocate,
                         error=ARGON2_MEMORY_ALLOCATION_ERROR),
            ffi.callback("void(uint8_t *, size_t)", _free))


def _allocate(memory: Any, size: int) -> int:
    memory[0] = ffi.NULL  # argon2 reads it if this raises (out of memory: refused)
    block = getattr(_kept, "block", None)
    if block is None or len(block) < size:
        block = _kept.block = ffi.new("uint8_t[]", size)
    memory[0] = block
    return ARGON2_OK


def _free(_memory: Any, _size: int) -> None:
    return None  # kept for the thread's next verification
