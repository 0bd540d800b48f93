"""Where a request's blocking work runs: the event loop, or one of three small thread pools per
worker.

The core is synchronous (SQLAlchemy, argon2), so every route awaits its core call in a worker
thread. Under the GIL those threads only help while they wait, and most of a request's work —
SQLAlchemy, SQLite, JSON — is Python that holds it. With Starlette's default of 40 threads,
dozens of them took turns at the GIL on every request; two threads cost far less CPU per
request and memory per worker (fewer threads, fewer SQLite connections in use; bench/README.md).
And the hand-off itself goes straight to threads of our own (``_Pool``): anyio's
``to_thread`` (what Starlette's ``run_in_threadpool`` uses) spent more CPU per call on its
limiter, cancel scopes and backend detection than the introspection it ran, and the event
loop's ``run_in_executor`` several times what ``_Pool`` spends (bench/README.md, "threads"
and the fourteenth pass).

- ``run(...)``: ordinary calls, on ``settings.request_threads`` threads (``install`` sizes them
  when the app starts; it also sizes anyio's default limiter, which Starlette's own internals
  still use).
- ``write(...)``: calls that write in place (a record created, updated or deleted; a token
  revoked), on threads of their own, as many as the request threads. On SQLite they all wait
  for one write lock, on PostgreSQL for row locks and the network: while a long transaction
  holds a lock, they queue here, and reads keep the request threads (and the event loop,
  ``on_loop``) to themselves.
- ``login(...)``: calls that verify a password (the password grant, SOAP ``login()``, the login
  and activation forms). They spend most of their time waiting on the argon2 pool
  (security/passwords.py) with the GIL released; on their own threads they never take the
  ones everything else needs, so other requests keep their latency while logins run.

Both run the call in a copy of the caller's context (``contextvars``), as ``run_in_threadpool``
did: ``localforce.commits`` relies on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

from anyio import to_thread

from localforce import commits

T = TypeVar("T")

#: Concurrent login calls per worker. They wait for the argon2 pool (one or two threads per
#: worker, security/passwords.py); eight keep it fed with the database work around each hash.
#: More only queue there instead of here, and each thread that ran a login keeps its own
#: malloc arena: with 40, a worker's peak RSS while logins ran was far higher than with 8 at
#: the same login rate (bench/README.md, RSS).
LOGIN_THREADS = 8
#: Until ``install`` says otherwise (an app used without its lifespan, e.g. in a unit test).
DEFAULT_REQUEST_THREADS = 2


class _Pool:
    """Threads made on first use, in the process that uses them: a forked child starts with
    none (``_after_fork``), and makes its own at its first call.

    A call handed over is one tuple on a queue; its result comes back to the caller's event
    loop through ``call_soon_threadsafe`` into an ``asyncio.Future``. ``run_in_executor`` did
    the same through a ``concurrent.futures.Future`` (a ``Condition`` each), chained to an
    asyncio one by callbacks: several times the CPU per hand-off (bench/README.md, fourteenth
    pass). The threads are daemons: a call still running when the process exits is cut short
    (its transaction rolled back, its request never answered), where ``ThreadPoolExecutor``
    made the exit wait for it."""

    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size
        self._queue: SimpleQueue[_Item | None] | None = None
        self._lock = threading.Lock()

    def submit(self, call: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        (self._queue or self._start()).put((loop, future, contextvars.copy_context(), call))
        return future

    def _start(self) -> SimpleQueue[_Item | None]:
        with self._lock:
            if self._queue is None:
                queue: SimpleQueue[_Item | None] = SimpleQueue()
                for number in range(self.size):
                    threading.Thread(target=_serve, args=(queue,), daemon=True,
                                     name=f"{self.name}_{number}").start()
                self._queue = queue
            return self._queue

    def forget_threads(self) -> None:
        """In a forked child: the parent's threads do not exist here (their queue is dropped,
        and its lock, which another thread may have held at the fork, made anew)."""
        self._queue = None
        self._lock = threading.Lock()

    def resize(self, size: int) -> None:
        with self._lock:
            if size != self.size and self._queue is not None:
                for _ in range(self.size):  # each thread ends after the calls queued before
                    self._queue.put(None)
                self._queue = None
            self.size = size


#: A call handed to a pool: the caller's loop and future, the context to run it in, the call.
_Item = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context,
              Callable[[], Any]]


def _serve(queue: SimpleQueue[_Item | None]) -> None:
    while (item := queue.get()) is not None:
        loop, future, context, call = item
        del item
        if future.cancelled():  # its request is gone
            continue
        try:
            _answer(loop, _succeed, future, context.run(call))
        except BaseException as exc:  # noqa: BLE001 - the caller's to handle
            _answer(loop, _fail, future, exc)
        del loop, future, context, call  # nothing of a call kept while the thread waits


def _answer(loop: asyncio.AbstractEventLoop, settle: Callable[[asyncio.Future[Any], Any], None],
            future: asyncio.Future[Any], value: Any) -> None:
    try:
        loop.call_soon_threadsafe(settle, future, value)
    except RuntimeError:  # the loop closed meanwhile: nobody waits for the answer
        pass


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # not cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


_REQUESTS = _Pool("request", DEFAULT_REQUEST_THREADS)
_WRITES = _Pool("write", DEFAULT_REQUEST_THREADS)
_LOGINS = _Pool("login", LOGIN_THREADS)


def _after_fork() -> None:
    for pool in (_REQUESTS, _WRITES, _LOGINS):
        pool.forget_threads()


os.register_at_fork(after_in_child=_after_fork)


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
    return await pool.submit(call)
