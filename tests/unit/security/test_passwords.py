"""argon2id off the event loop, bounded to one computation per core, nothing hashed at import."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError
from argon2.low_level import hash_secret, hash_secret_raw

from localforce.security import passwords
from localforce.security.passwords import OWASP_HASHER, hash_password, verify_password


def test_verification_accepts_the_password_and_refuses_others() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse") is True
    assert verify_password(stored, "wrong horse") is False
    assert verify_password(None, "correct horse") is False
    assert verify_password("not-a-hash", "correct horse") is False


def test_concurrent_verifications_run_on_at_most_one_thread_per_core() -> None:
    stored = hash_password("pw")
    callers = [threading.Thread(target=verify_password, args=(stored, "pw")) for _ in range(12)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    hashing = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert 1 <= len(hashing) <= (os.cpu_count() or 1)


def test_argon2_threads_run_below_the_other_threads() -> None:
    """Their ``nice`` is ``ARGON2_NICE`` above the process's; the caller's is unchanged."""
    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = nice()
    assert passwords._on_pool(nice) == min(19, before + passwords.ARGON2_NICE)
    assert nice() == before


def test_importing_computes_no_hash() -> None:
    probe = ("import localforce.security.passwords as p; "
             "print(p._dummy_hash.cache_info().currsize, p._pool.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["0", "0"]


def test_workers_share_the_cores_for_hashing() -> None:
    """Each of N workers hashes on cores // N threads (at least one), so N workers together
    hash on about one thread per core."""
    probe = ("import os; os.cpu_count = lambda: 8; import localforce.security.passwords as p; "
             "p.share_cores(2); print(p._pool()._max_workers); "
             "p._pool.cache_clear(); p.share_cores(16); print(p._pool()._max_workers)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["4", "1"]


# -- verification in a kept block (passwords._verify) -------------------------------------

_CHEAP = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


@pytest.mark.parametrize("hasher", [
    OWASP_HASHER,
    PasswordHasher(**_CHEAP),
    PasswordHasher(time_cost=3, memory_cost=256, parallelism=2),
    PasswordHasher(**_CHEAP, type=Type.I),
    PasswordHasher(**_CHEAP, type=Type.D),
    PasswordHasher(**_CHEAP, salt_len=8, hash_len=16),
])
def test_argon2_cffis_hashes_verify_and_other_passwords_do_not(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct horse")
    assert verify_password(stored, "correct horse", hasher) is True
    assert verify_password(stored, "correct horsE", hasher) is False
    assert verify_password(stored, "", hasher) is False
    assert verify_password(hasher.hash(""), "", hasher) is True


def test_the_tag_is_argon2s() -> None:
    """The tag computed in the kept block is the one argon2-cffi computes."""
    salt = b"0123456789abcdef"
    params = Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2,
                        memory_cost=19 * 1024, parallelism=1)
    mine = passwords._on_pool(passwords._tag, b"pw", salt, params, 32,  # noqa: SLF001
                              passwords._kept_block_callbacks())  # noqa: SLF001
    assert mine == hash_secret_raw(b"pw", salt, 2, 19 * 1024, 1, 32, Type.ID)


@pytest.mark.parametrize("tamper", [
    lambda h: h[:-2] + ("A" if h[-2] != "A" else "B") + h[-1],  # the tag
    lambda h: h.replace("$v=19$", "$v=16$"),  # the version
    lambda h: h.replace("t=1", "t=2"),  # a parameter
    lambda h: "$".join(h.split("$")[:4] + ["c2FsdHNhbHRzYWx0c2FsdA"] + h.split("$")[5:]),
    lambda h: h[:-5],  # the tag cut short
    lambda h: h + "=",  # padding
    lambda h: h.replace("$argon2id$", "$argon2i$"),  # the type
    lambda h: h.rsplit("$", 1)[0],  # no tag
    lambda h: h + "$",
])
def test_a_tampered_hash_verifies_nothing(tamper: Callable[[str], str]) -> None:
    hasher = PasswordHasher(**_CHEAP)
    stored = tamper(hasher.hash("pw"))
    assert verify_password(stored, "pw", hasher) is False


def test_a_hash_without_its_version_is_argon2_cffis_to_read() -> None:
    """The argon2 1.0 encoding (no ``v=``) is read by argon2-cffi itself."""
    hasher = PasswordHasher(**_CHEAP)
    salt = b"0123456789abcdef"
    stored = hash_secret(b"pw", salt, 1, 64, 1, 32, Type.ID, version=0x10)
    assert "$v=16$" in stored.decode()
    legacy = stored.decode().replace("$v=16$", "$")
    assert verify_password(legacy, "pw", hasher) is True
    assert verify_password(legacy, "pW", hasher) is False


def test_each_argon2_thread_keeps_one_block() -> None:
    """The working set is allocated at a thread's first verification and used again after;
    a hash that needs more memory gets a larger block, kept in its place."""
    def block() -> tuple[int, int]:
        kept = passwords._kept.block  # noqa: SLF001
        return id(kept), len(kept)

    def verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
        try:  # on this thread, to see its block
            return passwords._verify(hasher, stored, password)  # noqa: SLF001
        except VerifyMismatchError:
            return False

    stored = OWASP_HASHER.hash("pw")
    assert verify(OWASP_HASHER, stored, "pw") is True
    first = block()
    assert first[1] >= 19 * 1024 * 1024
    assert verify(OWASP_HASHER, stored, "other") is False
    assert block() == first
    bigger = PasswordHasher(time_cost=1, memory_cost=24 * 1024, parallelism=1)
    assert verify(bigger, bigger.hash("pw"), "pw") is True
    grown = block()
    assert grown[1] >= 24 * 1024 * 1024 and grown != first
    assert verify(OWASP_HASHER, stored, "pw") is True
    assert block() == grown


def test_argon2s_constants_are_its_bindings() -> None:
    from argon2.low_level import lib  # type: ignore[attr-defined]

    assert (passwords.ARGON2_OK, passwords.ARGON2_MEMORY_ALLOCATION_ERROR,
            passwords.ARGON2_DEFAULT_FLAGS) == (lib.ARGON2_OK,
                                               lib.ARGON2_MEMORY_ALLOCATION_ERROR,
                                               lib.ARGON2_DEFAULT_FLAGS)
