"""When a caller waits for its writes to be committed: now, or just before the answer.

Some rows are written by group commit (storage/sql/group_commit.py): a writer thread commits
the rows of many concurrent requests in one transaction and resolves one future per row once
that transaction has committed. A store method that hands a row over calls ``defer_or_wait``:

- by default it waits for the commit right there, so the method returns only once the row is
  durable (the CLI, tests and any code outside a request see no difference);
- inside ``deferred()`` it only notes the future, and the caller promises to ``settle`` every
  noted future before it tells anyone the write happened. The web layer does this for each
  request (``web/middleware.py`` ``CommitBeforeAnswer``): the request's thread is free as soon as
  the grant is computed, the writer batches the commits of everything in flight, and no
  response leaves before the rows it vouches for (an issued token, its LoginHistory entry) are
  committed — a crash before the commit loses only requests that were never answered.

The notes travel in a ``ContextVar``: ``web/threads.py`` runs each call in a copy of the
request's context, so the list noted in the worker thread is the request's own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: A commit to wait for: from the writer thread, or from a commit made on the event loop.
Commit = Future[None] | asyncio.Future[None]

_PENDING: ContextVar[list[Commit] | None] = ContextVar("localforce_pending_commits",
                                                       default=None)


def defer_or_wait(commit: Future[None]) -> None:
    """Wait for ``commit`` now, or note it for the enclosing ``deferred()``."""
    pending = _PENDING.get()
    if pending is None:
        commit.result()
    else:
        pending.append(commit)


def deferring() -> bool:
    """True inside ``deferred()``: a commit may be noted instead of waited for."""
    return _PENDING.get() is not None


def note(commit: asyncio.Future[None]) -> None:
    """Note a commit made on the event loop for the enclosing ``deferred()`` (``deferring()``
    must be true: nothing on the loop can wait for it)."""
    pending = _PENDING.get()
    assert pending is not None
    pending.append(commit)


def deferred() -> _Deferred:
    """Writes in this context (and in threads run with a copy of it) do not wait for their
    commit; the caller must ``settle`` the list ``with`` gives before answering."""
    return _Deferred()


class _Deferred:
    """``deferred()``'s context: a class, not a generator's (entered on every request)."""

    __slots__ = ("pending", "token")

    def __enter__(self) -> list[Commit]:
        self.pending: list[Commit] = []
        self.token = _PENDING.set(self.pending)
        return self.pending

    def __exit__(self, *_exc: object) -> None:
        _PENDING.reset(self.token)


async def settle(pending: list[Commit]) -> None:
    """Wait (without blocking the event loop) until every noted commit is done; re-raise the
    first failure."""
    while pending:
        commit = pending.pop(0)
        await (commit if isinstance(commit, asyncio.Future) else asyncio.wrap_future(commit))


# -- calls made on the event loop -------------------------------------------------------------
#
# On SQLite (WAL) a read never waits: it reads its snapshot while a writer holds the lock. So a
# hot call that only reads and hands rows to the group-commit writer can run on the event loop
# itself (``web/threads.py`` ``on_loop``), without the hand-off to a request thread and back
# (bench/README.md: that hand-off cost about as much CPU as an introspection). What such a call
# must never do there is wait, or run long, since every other request of the worker waits
# with it:
#
# - a store call that can wait — for SQLite's write lock (an in-place UPDATE, a counter) or
#   for the network (Redis) — calls ``may_wait()`` first, which raises ``WouldWait`` on the
#   loop before anything is written;
# - SQLite checks ``overran()`` as it executes (a progress handler, storage/sql/engine.py) and
#   interrupts a statement once the call has used ``LOOP_BUDGET_S`` of CPU (the thread's own
#   time: waiting for the GIL while other threads run does not count);
#
# and in either case the whole call runs again on a request thread. The rows a call hands to
# the group-commit writer meanwhile are held back (``hold``) and queued only once the call has
# finished on the loop, so a call run twice writes its rows once.
#
# A read over the network (PostgreSQL) can do better than moving the whole call: its store
# raises ``WouldWait`` with the read itself (a ``Read``), the caller runs that read apart —
# together with the reads other calls on the loop asked for meanwhile, in one round trip
# (``web/threads.py``) — and tries the call again with the answer (``answered``). A call that
# asks for another read goes round again; one whose read fails runs on a thread as before.
# What an attempt worked out before its read (who calls, the query's plan) the next attempt
# need not work out again: ``kept`` gives it what the first one made.

#: CPU time a call may use on the event loop before SQLite interrupts it: many times a typical
#: hot call's (bench/README.md); a query that scans a large table is moved to a thread.
LOOP_BUDGET_S = 0.005


class Read:
    """A read a call on the event loop could not make there: ``source.run_many`` runs it
    (with others of the same source) on a thread, and ``key`` finds its answer in the call's
    next attempt."""

    __slots__ = ("source", "key")

    def __init__(self, source: ReadSource, key: Hashable) -> None:
        self.source, self.key = source, key


class ReadSource(Protocol):
    def run_many(self, reads: list[Read]) -> list[Any] | None:
        """Each read's answer, in order; None if any failed (the calls then run on threads
        and read again, so a failure is reported as it always was)."""


class WouldWait(Exception):
    """A store call would wait (a write lock, the network) while the caller is on the event
    loop; nothing was written. ``read``: the read it waits for, when it can be run apart."""

    def __init__(self, read: Read | None = None) -> None:
        super().__init__()
        self.read = read


#: ``answered``'s "no answer for this read".
NO_ANSWER: Any = object()


class Replay:
    """What the attempts of one call on the loop carry from one to the next: the answers to
    the reads it asked for, what they made on their way (``kept``), and the read the last
    attempt waited for (if one). ``guesses``: answers read before the call asked for them
    (``web/threads.py``, guessed from an earlier call); one the call asks for moves to
    ``answers``, one it never asks for stays here, unused."""

    __slots__ = ("answers", "made", "wanted", "last", "guesses")

    def __init__(self) -> None:
        self.answers: dict[Hashable, Any] = {}
        self.made: dict[Hashable, Any] = {}
        self.wanted: Read | None = None
        #: The last read run apart for the call (set by its runner).
        self.last: Read | None = None
        self.guesses: dict[Hashable, Any] = {}


class _LoopCall:
    __slots__ = ("held", "deadline", "over", "replay")

    def __init__(self, replay: Replay | None = None) -> None:
        self.held: list[Callable[[], None]] = []
        #: The answers to reads an earlier attempt of this call asked for, and what the
        #: attempts made (``kept``).
        self.replay = replay
        #: Set at the first look (``overran``), not here: most calls never reach one, and
        #: the thread's CPU clock is a system call (a visible share of a hot call's samples
        #: under load, bench/README.md). The budget then counts from that first look, which SQLite
        #: takes after ``PROGRESS_STEPS`` (tens of microseconds of work).
        self.deadline: float | None = None
        self.over = False


_ON_LOOP: ContextVar[_LoopCall | None] = ContextVar("localforce_on_loop", default=None)


def on_loop() -> bool:
    """True while a call runs on the event loop (``attempt``): a store call that would wait
    raises ``WouldWait`` there."""
    return _ON_LOOP.get() is not None


def may_wait() -> None:
    """Called by a store right before an operation that can wait; raises ``WouldWait`` when
    the caller runs on the event loop."""
    if on_loop():
        raise WouldWait


def answered(key: Hashable) -> Any:
    """The answer to the read ``key`` that an earlier attempt of this call asked for, or
    ``NO_ANSWER`` (no such answer, or not on the loop)."""
    call = _ON_LOOP.get()
    replay = call.replay if call is not None else None
    if replay is None:
        return NO_ANSWER
    found = replay.answers.get(key, NO_ANSWER)
    if found is NO_ANSWER and replay.guesses:
        found = replay.guesses.pop(key, NO_ANSWER)
        if found is not NO_ANSWER:
            replay.answers[key] = found
    return found


def kept(key: Hashable, make: Callable[..., T], *args: Any) -> T:
    """``make(*args)``, made once for all the attempts of a call on the loop: an attempt after
    a read run apart gets what an earlier one made for ``key``. Only for what every attempt of
    the call would make alike, without a side effect (who is calling, a query's plan)."""
    call = _ON_LOOP.get()
    replay = call.replay if call is not None else None
    if replay is None:
        return make(*args)
    made = replay.made
    found = made.get(key, NO_ANSWER)
    if found is NO_ANSWER:
        found = made[key] = make(*args)
    return found  # type: ignore[no-any-return]


def overran() -> bool:
    """True once a call on the event loop has used its budget (SQLite then interrupts it)."""
    call = _ON_LOOP.get()
    if call is None:
        return False
    now = time.thread_time()
    if call.deadline is None:
        call.deadline = now + LOOP_BUDGET_S
    if now < call.deadline:
        return False
    call.over = True
    return True


def hold(append: Callable[[], None]) -> bool:
    """Keep ``append`` (a row handed to the group-commit writer) until the call on the loop
    has finished; False when the caller is not on the loop (append now)."""
    call = _ON_LOOP.get()
    if call is None:
        return False
    call.held.append(append)
    return True


def attempt(work: Callable[..., T], *args: Any, replay: Replay | None = None
            ) -> tuple[bool, T | None]:
    """Run ``work(*args)`` as a call on the event loop: ``(True, result)``, or ``(False,
    None)`` if it would have waited or ran past its budget (then none of its rows were
    written: run it on a thread, or, when ``replay.wanted`` names the read it waited for,
    run that read apart and try again with its answer in ``replay.answers``)."""
    call = _LoopCall(replay)
    token = _ON_LOOP.set(call)
    if replay is not None:
        replay.wanted = None
    try:
        result = work(*args)
    except WouldWait as wait:
        _ON_LOOP.reset(token)
        if replay is not None:
            replay.wanted = wait.read
        return False, None
    except BaseException:
        _ON_LOOP.reset(token)
        if call.over:  # SQLite's "interrupted", however the call reported it
            return False, None
        _release(call.held)  # e.g. a refused login's LoginHistory row, written as on a thread
        raise
    _ON_LOOP.reset(token)
    if call.over:  # interrupted, and the call answered with an error of its own
        return False, None
    _release(call.held)
    return True, result


def _release(held: list[Callable[[], None]]) -> None:
    for append in held:
        append()
