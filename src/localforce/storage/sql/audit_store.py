"""The audit ports on SQL: the API usage log, connected-app usage, LoginHistory listings."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from localforce.audit.ports import ApiCall, AppUser, LoginEvent
from localforce.storage.sql import tables as t

_log = t.api_usage_log.c
_tk = t.tokens.c
_lh = t.login_history.c
_LOG_COLUMNS = ApiCall._fields  # an ``ApiCall`` is its row
#: The longest path kept (the column's size).
MAX_PATH = 2048
_COPY_LOG = f"COPY {t.api_usage_log.name} ({', '.join(_LOG_COLUMNS)}) FROM STDIN"
#: Rows per INSERT on SQLite: their parameters stay within the 999 of SQLite before 3.32.
INSERT_ROWS = 999 // len(_LOG_COLUMNS)
#: The sizes a batch is cut into, largest first: ``INSERT_ROWS``, then powers of two for the
#: rest, so a connection's statement cache holds at most these few INSERTs whatever the
#: batches' lengths.
_CHUNKS = (INSERT_ROWS, *(2 ** k for k in range(INSERT_ROWS.bit_length() - 1, -1, -1)
                          if 2 ** k < INSERT_ROWS))


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    """(start, rows) of each INSERT for a batch of ``total`` rows."""
    start = 0
    for size in _CHUNKS:
        while total - start >= size:
            yield start, size
            start += size


@functools.lru_cache(maxsize=len(_CHUNKS))
def _insert_log(rows: int) -> str:
    """One INSERT of ``rows`` rows (SQLite)."""
    values = f"({', '.join('?' * len(_LOG_COLUMNS))})"
    return (f"INSERT INTO {t.api_usage_log.name} ({', '.join(_LOG_COLUMNS)}) "
            f"VALUES {', '.join([values] * rows)}")


class SqlApiCallLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, calls: Sequence[ApiCall]) -> None:
        rows = [c if len(c.path) <= MAX_PATH else c._replace(path=c.path[:MAX_PATH])
                for c in calls]
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # COPY: one stream for the batch, a quarter of the CPU per row of the
                # executemany, which psycopg runs as one prepared INSERT per row (bench/README.md).
                dbapi = conn.connection.dbapi_connection
                with dbapi.cursor() as cursor, cursor.copy(_COPY_LOG) as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row(row)
            else:
                # Rows in multi-row INSERTs: pysqlite's executemany steps once per row, giving
                # the GIL up and waiting to take it back each time; a worker's event loop holds
                # it nearly always under load, so a batch spent far longer waiting than writing
                # (bench/README.md).
                dbapi = conn.connection.dbapi_connection
                for start, size in _chunks(len(rows)):
                    dbapi.execute(_insert_log(size),  # type: ignore[union-attr]
                                  list(chain.from_iterable(rows[start:start + size])))

    def calls(self, since_ms: int, org_id: str | None = None) -> Iterator[ApiCall]:
        query = select(t.api_usage_log).where(_log.at_ms >= since_ms)
        if org_id is not None:
            query = query.where(_log.org_id == org_id)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=1000).execute(
                query.order_by(_log.at_ms, _log.id)).mappings()
            for row in result:
                yield ApiCall(row["at_ms"], row["org_id"], row["user_id"], row["app_id"],
                              row["method"], row["path"], row["status"], row["duration_us"])


def _live(now: int) -> object:
    return and_(_tk.revoked_at.is_(None), _tk.rotated_at.is_(None),
                or_(_tk.expires_at.is_(None), _tk.expires_at > now),
                or_(_tk.idle_timeout.is_(None), _tk.last_used_at + _tk.idle_timeout > now))


class SqlAuditQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def app_users(self, app_id: str, now: int) -> list[AppUser]:
        def live(kind: str) -> Any:
            return func.coalesce(func.sum(case((_tk.kind == kind, 1), else_=0)), 0)

        last_used = func.max(_tk.last_used_at)
        query = (select(_tk.user_id, t.users.c.username, live("access"), live("refresh"),
                        last_used)
                 .select_from(t.tokens.outerjoin(t.users, t.users.c.id == _tk.user_id))
                 .where(_tk.app_id == app_id, _live(now))  # type: ignore[arg-type]
                 .group_by(_tk.user_id, t.users.c.username)
                 .order_by(last_used.desc(), _tk.user_id))
        with self._engine.connect() as conn:
            return [AppUser(r[0], r[1], int(r[2]), int(r[3]), r[4])
                    for r in conn.execute(query)]

    def logins(self, org_id: str, since_ms: int, username: str | None = None,
               limit: int = 1000) -> list[LoginEvent]:
        query = select(t.login_history).where(
            or_(_lh.org_id == org_id, _lh.org_id.is_(None)), _lh.login_time >= since_ms)
        if username is not None:
            query = query.where(func.lower(_lh.username) == username.lower())
        query = query.order_by(_lh.login_time.desc(), _lh.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [LoginEvent(r["id"], r["login_time"], r["username"], r["user_id"],
                               r["login_type"], r["status"], r["source_ip"], r["application"],
                               r["login_url"]) for r in conn.execute(query).mappings()]
