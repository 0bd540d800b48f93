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
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar

_PENDING: ContextVar[list[Future[None]] | None] = ContextVar("localforce_pending_commits",
                                                             default=None)


def defer_or_wait(commit: Future[None]) -> None:
    """Wait for ``commit`` now, or note it for the enclosing ``deferred()``."""
    pending = _PENDING.get()
    if pending is None:
        commit.result()
    else:
        pending.append(commit)


@contextmanager
def deferred() -> Iterator[list[Future[None]]]:
    """Writes in this context (and in threads run with a copy of it) do not wait for their
    commit; the caller must ``settle`` the yielded list before answering."""
    pending: list[Future[None]] = []
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


async def settle(pending: list[Future[None]]) -> None:
    """Wait (without blocking the event loop) until every noted commit is done; re-raise the
    first failure."""
    while pending:
        await asyncio.wrap_future(pending.pop(0))
