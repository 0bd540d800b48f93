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
- ``on_loop(...)``: a hot call tried on the event loop first (``commits.attempt``); with
  ``apart``, a PostgreSQL read it waits for is run by ``READS`` on the request threads, the
  reads of every call waiting then in one round trip, and the call tried again with its
  answer; with ``like`` too, the read the last call like it asked for is made before the
  first attempt, so a call that asks for it again is tried once.
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
import logging
import os
import threading
from collections.abc import Callable, Hashable
from queue import SimpleQueue
from typing import Any, TypeVar

from anyio import to_thread

from localforce import commits
from localforce.caching import Lru

T = TypeVar("T")

log = logging.getLogger("localforce.web")

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

    def post(self, call: Callable[[], object]) -> None:
        """Run ``call`` on a thread of the pool, nobody waiting for it (it reports by itself;
        an exception it raises is logged)."""
        (self._queue or self._start()).put((None, None, contextvars.copy_context(), call))

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
#: (Both None for a call posted, ``_Pool.post``.)
_Item = tuple[asyncio.AbstractEventLoop | None, "asyncio.Future[Any] | None", contextvars.Context,
              Callable[[], Any]]


def _serve(queue: SimpleQueue[_Item | None]) -> None:
    while (item := queue.get()) is not None:
        loop, future, context, call = item
        del item
        if loop is None or future is None:
            try:
                context.run(call)
            except Exception:
                log.exception("a call posted to the %s threads failed",
                              threading.current_thread().name)
            del context, call
            continue
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
    READS.forget()
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


#: Reads one call on the event loop may have run apart before it runs on a thread instead.
MAX_READS_APART = 4
#: Kinds of calls whose last read one ``Guesses`` remembers.
GUESSES_MAX = 1024


async def on_loop(inline: bool, work: Callable[..., T], *args: object,
                  apart: bool = False, like: tuple[Guesses, Hashable] | None = None) -> T:
    """``work(*args)`` on the event loop itself when ``inline`` and it need not wait
    (``commits.attempt``: reads on SQLite, rows for the group-commit writer), else on a request
    thread like ``run``. Only calls that never verify a password may be inline.

    ``apart``: a read the call waits for that can be run apart (PostgreSQL's, a
    ``commits.Read``) is run by ``READS`` and the call tried again with its answer; only for
    calls that do nothing twice when tried again (the data API's reads count the request
    once, web/routes/data.py).

    ``like``: the guesses of the caller's route and what makes calls alike there (the data
    API: the request's path, query and credentials, hashed). The last read the previous such
    call asked for is read at once, before the first attempt, so a call that asks for it again
    finishes in one attempt instead of two; its answer is used only by a call that asks for
    that very read."""
    if inline:
        replay = commits.Replay() if apart else None
        guess = like[0].get(like[1]) if replay is not None and like is not None else None
        if replay is not None and guess is not None and guess.read is not None:
            answer = await READS.fetch(guess.read)
            if answer is not commits.NO_ANSWER:
                replay.guesses[guess.read.key] = answer
        while True:
            done, result = commits.attempt(work, *args, replay=replay)
            if done:
                if like is not None and replay is not None:
                    like[0].learn(like[1], guess, replay)
                return result  # type: ignore[return-value]  # T, which may itself be None
            if replay is None or replay.wanted is None \
                    or len(replay.answers) >= MAX_READS_APART:
                break
            read = replay.wanted
            answer = await READS.fetch(read)
            if answer is commits.NO_ANSWER:  # the read failed: on a thread, it fails as ever
                break
            replay.answers[read.key] = answer
            replay.last = read
    return await run(work, *args)


class _Guess:
    """The last read a call of one kind asked for; ``missed``: the guess before it went
    unused. No read: calls of that kind ask for a different read each time (a query of
    today's date, say), and are not guessed for."""

    __slots__ = ("read", "missed")

    def __init__(self, read: commits.Read | None, missed: bool = False) -> None:
        self.read, self.missed = read, missed


_UNLIKE = _Guess(None)


class Guesses:
    """One route's guesses (``on_loop``'s ``like``): per kind of call, the last read such a
    call asked for, at most ``size`` kinds (the least recently used go first). They live with
    the route, so nothing of a closed app's stores is kept here. A kind whose guess went
    unused twice in a row is not guessed for again."""

    def __init__(self, size: int = GUESSES_MAX) -> None:
        self._kinds: Lru[Hashable, _Guess] = Lru(size)

    def get(self, like: Hashable) -> _Guess | None:
        return self._kinds.get(like)

    def learn(self, like: Hashable, guess: _Guess | None, replay: commits.Replay) -> None:
        if guess is None:
            if replay.last is not None:
                self._kinds.put(like, _Guess(replay.last))
        elif guess.read is None:
            return
        elif replay.guesses:  # read before the call, and never asked for
            # Once (the plan was made anew, say): the call's own read is the next guess.
            missed_again = guess.missed or replay.last is None
            self._kinds.put(like, _UNLIKE if missed_again else _Guess(replay.last, missed=True))
        elif guess.missed:
            self._kinds.put(like, _Guess(guess.read))


class _ReadsApart:
    """The reads calls on the event loop wait for, run on the request threads: each thread
    free for it takes every read waiting then, as one batch (on PostgreSQL one pipeline: one
    round trip for all; storage/sql/raw_reads.py). At most one batch per request thread is
    on its way, so while they are, reads gather for the next.

    A batch is one call on the request pool, queued behind the calls already there."""

    def __init__(self) -> None:
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any],
                                  commits.Read]] = []
        self._batches = 0  # queued or running
        self._lock = threading.Lock()

    def fetch(self, read: commits.Read) -> asyncio.Future[Any]:
        """The read's answer (``commits.NO_ANSWER`` if it failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((loop, future, read))
            start = self._batches < _REQUESTS.size
            if start:
                self._batches += 1
        if start:
            _REQUESTS.post(self._batch)
        return future

    def forget(self) -> None:
        """In a forked child: nothing waits there, and no batch runs."""
        self._waiting = []
        self._batches = 0
        self._lock = threading.Lock()

    def _batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            answers = self._answers([read for _loop, _future, read in batch])
        finally:
            with self._lock:
                more = bool(self._waiting)
                if not more:
                    self._batches -= 1
            if more:  # behind whatever else was queued meanwhile
                _REQUESTS.post(self._batch)
        for (loop, future, _read), answer in zip(batch, answers, strict=True):
            _answer(loop, _succeed, future, answer)

    @staticmethod
    def _answers(reads: list[commits.Read]) -> list[Any]:
        """Each read's answer, those of one source run together."""
        answers: list[Any] = [commits.NO_ANSWER] * len(reads)
        by_source: dict[int, list[int]] = {}
        for i, read in enumerate(reads):
            by_source.setdefault(id(read.source), []).append(i)
        for indexes in by_source.values():
            source = reads[indexes[0]].source
            try:
                found = source.run_many([reads[i] for i in indexes])
            except Exception:  # noqa: BLE001 - each call reads again on a thread, and fails there
                found = None
            if found is not None:
                for i, answer in zip(indexes, found, strict=True):
                    answers[i] = answer
        return answers


READS = _ReadsApart()


async def _on(pool: _Pool, call: Callable[[], T]) -> T:
    return await pool.submit(call)
