"""Where a request's blocking work runs: the event loop, or one of three small thread pools per
worker.

The core is synchronous (SQLAlchemy, argon2), so every route awaits its core call in a worker
thread. Under the GIL those threads only help while they wait, and most of a request's work —
SQLAlchemy, SQLite, JSON — is Python that holds it. With Starlette's default of 40 threads,
dozens of them took turns at the GIL on every request; two threads cost far less CPU per
request and memory per worker (fewer threads, fewer SQLite connections in use; bench/README.md).
And the hand-off itself goes straight to a ``ThreadPoolExecutor`` through the event loop's
``run_in_executor``: anyio's ``to_thread`` (what Starlette's ``run_in_threadpool`` uses) spent
more CPU per call on its limiter, cancel scopes and backend detection than the introspection
it ran (bench/README.md, "threads").

- ``run(...)``: ordinary calls, on ``settings.request_threads`` threads (``install`` sizes them
  when the app starts; it also sizes anyio's default limiter, which Starlette's own internals
  still use).
- ``write(...)``: calls that write in place (a record created, updated or deleted; a token
  revoked), on threads of their own, as many as the request threads. On SQLite they all wait
  for one write lock, on PostgreSQL for row locks and the network: while a long transaction
  holds a lock, they queue here, and reads keep the request threads (and the event loop,
  ``on_loop``) to themselves.
- ``login(...)``: calls that verify a password (the password grant, SOAP ``login()``, the login
  and activation forms). They spend ~20 ms waiting on the argon2 pool (security/passwords.py)
  with the GIL released; on their own threads they never take the ones everything else needs,
  so other requests keep their latency while logins run.

Both run the call in a copy of the caller's context (``contextvars``), as ``run_in_threadpool``
did: ``localforce.commits`` relies on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from anyio import to_thread

from localforce import commits

T = TypeVar("T")

#: Concurrent login calls per worker. They wait for the argon2 pool (one or two threads per
#: worker, security/passwords.py); eight keep it fed with the database work around each hash.
#: More only queue there instead of here, and each thread that ran a login keeps its own
#: malloc arena: with 40, a worker's peak RSS while logins ran was 130-140 MiB, with 8
#: 108-118 MiB at the same login rate (bench/README.md, RSS).
LOGIN_THREADS = 8
#: Until ``install`` says otherwise (an app used without its lifespan, e.g. in a unit test).
DEFAULT_REQUEST_THREADS = 2


class _Pool:
    """A thread pool made on first use, in the process that uses it (uvicorn starts its workers
    after importing nothing of ours, but a pool must never cross a fork)."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self.size, thread_name_prefix=self.name)
        return self._executor

    def resize(self, size: int) -> None:
        with self._lock:
            if size != self.size and self._executor is not None:
                self._executor.shutdown(wait=False)  # its running calls finish; no new ones
                self._executor = None
            self.size = size


_REQUESTS = _Pool("request", DEFAULT_REQUEST_THREADS)
_WRITES = _Pool("write", DEFAULT_REQUEST_THREADS)
_LOGINS = _Pool("login", LOGIN_THREADS)


def install(request_threads: int) -> None:
    """Size the request and write threads, and this event loop's anyio limiter (from the
    lifespan)."""
    _REQUESTS.resize(request_threads)
    _WRITES.resize(request_threads)
    to_thread.current_default_thread_limiter().total_tokens = request_threads


async def run(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    return await _on(_REQUESTS, functools.partial(work, *args, **kwargs))


async def write(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    return await _on(_WRITES, functools.partial(work, *args, **kwargs))


async def login(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    return await _on(_LOGINS, functools.partial(work, *args, **kwargs))


async def on_loop(inline: bool, work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` on the event loop itself when ``inline`` and it need not wait
    (``commits.attempt``: reads on SQLite, rows for the group-commit writer), else on a request
    thread like ``run``. Only calls that never verify a password may be inline."""
    if inline:
        done, result = commits.attempt(work, *args)
        if done:
            return result  # type: ignore[return-value]  # T, which may itself be None
    return await run(work, *args)


async def _on(pool: _Pool, call: Callable[[], T]) -> T:
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(pool.executor(), context.run, call)
