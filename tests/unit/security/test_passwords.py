"""argon2id off the event loop, bounded to one computation per core, nothing hashed at import."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from localforce.security.passwords import hash_password, verify_password


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
