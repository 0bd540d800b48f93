"""Where a request's blocking work runs: two thread limiters per worker.

The core is synchronous (SQLAlchemy, argon2), so every route awaits its core call in a worker
thread. Under the GIL those threads only help while they wait, and most of a request's work —
SQLAlchemy, SQLite, JSON — is Python that holds it. With Starlette's default of 40 threads,
dozens of them took turns at the GIL on every request: at 64 connections a client-credentials
grant cost 1.56 ms of CPU and a ``/query`` 1.53 ms; with two threads, 0.90 and 0.81 ms, and a
query worker's RSS went from 174 to 93 MiB (fewer threads, fewer SQLite connections in use;
bench/README.md, "threads").

- Ordinary calls (Starlette's ``run_in_threadpool``) run on anyio's default limiter, which
  ``install`` sizes to ``settings.request_threads`` when the app starts.
- ``login(...)``: calls that verify a password (the password grant, SOAP ``login()``, the login and
  activation forms). They spend ~20 ms waiting on the argon2 pool (security/passwords.py) with
  the GIL released; on their own limiter they never take the threads everything else needs,
  so other requests keep their latency while logins run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar

T = TypeVar("T")

#: Concurrent login calls per worker. They wait for the argon2 pool (one or two threads per
#: worker, security/passwords.py); eight keep it fed with the database work around each hash.
#: More only queue there instead of here, and each thread that ran a login keeps its own
#: malloc arena: with 40, a worker's peak RSS while logins ran was 130-140 MiB, with 8
#: 108-118 MiB at the same login rate (bench/README.md, RSS).
LOGIN_THREADS = 8

_LOGIN_LIMITER: RunVar[CapacityLimiter] = RunVar("localforce_login_limiter")


def install(request_threads: int) -> None:
    """Size this event loop's default limiter (call from the app's lifespan)."""
    to_thread.current_default_thread_limiter().total_tokens = request_threads


async def login(work: Callable[..., T], *args: object) -> T:
    return await to_thread.run_sync(work, *args, limiter=_login_limiter())


def _login_limiter() -> CapacityLimiter:
    """One per event loop, like anyio's default limiter."""
    try:
        return _LOGIN_LIMITER.get()
    except LookupError:
        limiter = CapacityLimiter(LOGIN_THREADS)
        _LOGIN_LIMITER.set(limiter)
        return limiter
