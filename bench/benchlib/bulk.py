"""Growth data written straight through SQL: 10^6 Accounts, 10^4 then 10^6 live tokens.

Rows are cloned from a template row the server itself wrote (a token it issued, an Account
it created), so every column the server's own migrations added gets a value the server
accepts; only the identifying columns change. Batches of ``BATCH`` rows per transaction keep
the SQLite write lock short and memory flat.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, MetaData, Table, func, insert, inspect, select
from sqlalchemy.exc import SAWarning

BATCH = 20_000

Vary = Callable[[int], dict[str, Any]]


class NoTemplate(LookupError):
    """The template row is not where the harness looked for it."""


def reflect(engine: Engine, name: str) -> Table | None:
    """One table as the database has it (expression indexes, which SQLAlchemy cannot
    reflect and warns about, do not matter here)."""
    if name not in inspect(engine).get_table_names():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        return Table(name, MetaData(), autoload_with=engine)


def template_by(engine: Engine, table_name: str, column: str, value: str
                ) -> tuple[Table, dict[str, Any]]:
    table = reflect(engine, table_name)
    if table is None:
        raise NoTemplate(f"no table {table_name!r}")
    with engine.connect() as connection:
        row = connection.execute(select(table).where(table.c[column] == value)).mappings().first()
    if row is None:
        raise NoTemplate(f"no row in {table_name} with {column} = {value[:12]}…")
    return table, dict(row)


def find_record(engine: Engine, record_id: str) -> tuple[Table, dict[str, Any]]:
    """The row of a record given its Id, in whichever table the data API keeps that sObject
    (one table per sObject; the Id column is found by name, case-insensitively)."""
    candidates = {record_id, record_id[:15]}
    # Tables named after the object first: one query each is enough there.
    names = sorted(inspect(engine).get_table_names(), key=lambda n: "account" not in n.lower())
    with engine.connect() as connection:
        for name in names:
            table = reflect(engine, name)
            if table is None:
                continue
            id_columns = [c for c in table.c if c.name.lower() == "id"]
            if not id_columns or not _texty(id_columns[0]):
                continue
            row = connection.execute(
                select(table).where(id_columns[0].in_(candidates))).mappings().first()
            if row is not None:
                return table, dict(row)
    raise NoTemplate(f"no table holds a row with Id {record_id}")


def _texty(column: Any) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def clone(engine: Engine, table: Table, template: dict[str, Any], total: int, vary: Vary,
          start: int = 0, progress: Callable[[str], None] = print) -> float:
    """Insert rows ``start`` .. ``start + total - 1`` as ``template | vary(n)``; seconds taken."""
    began = time.monotonic()
    varied = set(vary(start))
    # A surrogate key the template carries (an integer rowid) is left to the database.
    template = {k: v for k, v in template.items()
                if k in varied or not table.c[k].primary_key}
    statement = insert(table)
    done = 0
    for rows in _batches(template, vary, start, total):
        with engine.begin() as connection:
            connection.execute(statement, rows)
        done += len(rows)
        if done % (BATCH * 10) == 0 or done == total:
            progress(f"  {table.name}: {done:,}/{total:,} rows in {time.monotonic() - began:.0f} s")
    seconds = time.monotonic() - began
    if engine.dialect.name == "postgresql":
        # What autovacuum does to a table that grew, in a minute or more: the scenarios measure
        # the tables as a running server has them. Without statistics, the generic plan
        # PostgreSQL settles on for a prepared statement (psycopg prepares a query's fifth
        # run) tied an index on Name with the paging index and took the paging one: WHERE
        # Name = walked every row (bench/README.md, eighteenth pass).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    elif engine.dialect.name == "sqlite":
        # The rows into the database file and the WAL back to empty, as a running server's
        # checkpoints would have left them long before: the runs that follow measure neither
        # the copying of this load's frames nor reads through a WAL that holds all of it.
        pooled = engine.raw_connection()  # outside any transaction, as a checkpoint must be
        try:
            pooled.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            pooled.close()
    return seconds


def _batches(template: dict[str, Any], vary: Vary, start: int, total: int
             ) -> Iterator[list[dict[str, Any]]]:
    for low in range(start, start + total, BATCH):
        high = min(low + BATCH, start + total)
        yield [template | vary(n) for n in range(low, high)]


def token_vary(now: int) -> Vary:
    """Live access tokens: fresh digests and families (minted as the server mints them),
    issued and used just now. The token values themselves are never known to anyone (random
    hashes), as for real stored tokens; each digest leads with a stamp as a minted token's
    does (security/tokens.py), the ``n``-th a millisecond after the one before, starting a day
    ago: the tokens the server mints during the runs come after all of them."""
    from localforce.oauth.issuing import new_family_id

    first_ms = (now - 86_400) * 1000

    def vary(n: int) -> dict[str, Any]:
        hashed = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
        return {"digest": f"{first_ms + n:012x}{hashed[:52]}",
                "family_id": new_family_id(), "issued_at": now, "last_used_at": now}
    return vary


def account_name(n: int) -> str:
    return f"Bench Account {n:07d}"


def account_vary(id_column: str, template_id: str, name_column: str) -> Vary:
    """Account Ids like the template's (its key prefix, pod and length) with a sequence
    number where the random part goes: minting 10^6 random Ids costs a minute by itself. The
    sequence starts with ``Z``, so it cannot meet the server's own random Ids in practice."""
    from localforce.domain import ids

    head, length = template_id[:6], len(template_id)

    def vary(n: int) -> dict[str, Any]:
        digits, rest = [], n
        for _ in range(8):
            rest, r = divmod(rest, 62)
            digits.append(_BASE62[r])
        id15 = head + "Z" + "".join(reversed(digits))
        return {id_column: (id15 + ids.checksum(id15))[:length], name_column: account_name(n)}
    return vary


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
