"""RecordStore on SQL: record tables, custom-object DDL, compiled SOQL, cursors, API usage."""

from __future__ import annotations

import copy
import itertools
import re
import time
import typing
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    delete,
    false,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from localforce import caching
from localforce.caching import Lru
from localforce.data.errors import BadRequest
from localforce.data.plan import Expr, QueryPlan
from localforce.data.ports import Cursor
from localforce.data.schema import TEXT_TYPES, FieldDef, ObjectDef, standard_schema
from localforce.soql.sosl import Term
from localforce.storage.sql import search_index
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import single_statement_reader
from localforce.storage.sql.raw_reads import RawReads
from localforce.storage.sql.record_tables import BINDINGS, column_type, record_table
from localforce.storage.sql.soql_to_sql import (
    Compiler,
    NameSource,
    Source,
    folding,
    unicode_lower,
)

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


Declarations = list[tuple[dict[str, Any], str | None]]

DECLARATIONS_MAX_ORGS = 1024
#: Statements kept with one plan: a plan's calls use one or two shapes, but positional pages
#: of an old locator differ by offset, so the count is capped.
COMPILED_PER_PLAN = 8
#: Retrieve statements kept per store, by table shape and the fields read (``?fields=`` may
#: name any set of them, so this is bounded).
BY_ID_MAX = 512
#: Ids or values per ``IN (…)`` of the many-record reads.
IN_SLICE = 1000
#: Rows per multi-row ``INSERT … VALUES``, and the bound parameters one may have at most
#: (SQLite's default limit is 32,766; PostgreSQL's 65,535).
ROWS_PER_INSERT = 100
MAX_PARAMETERS = 30_000

#: Per select column, how its stored value becomes the plan's: a directory binding's codec
#: (``Source.from_db``) for its field, or ``None`` when the column is read as stored.
Codecs = tuple[tuple[Source, FieldDef] | None, ...]


class Statements:
    """What the store compiled from each resolved plan (``data/query.py`` keeps plans for
    later calls, and a plan is not changed once resolved), by the plan's identity and the
    store's own key; at most ``COMPILED_PER_PLAN`` per plan, dropped with the plan. Shared by
    a store and the stores of its transactions."""

    def __init__(self) -> None:
        #: ``id(plan)`` -> key -> (statement, codecs); the plan's finalizer removes its entry,
        #: so an id is not reused while it is here.
        self.by_plan: dict[int, dict[Any, tuple[Select[Any], Codecs]]] = {}

    def keep(self, plan: QueryPlan, key: Any, found: tuple[Select[Any], Codecs]) -> None:
        kept = self.by_plan.get(id(plan))
        if kept is None:
            kept = self.by_plan[id(plan)] = {}
            weakref.finalize(plan, self.by_plan.pop, id(plan), None)
        if len(kept) < COMPILED_PER_PLAN:
            kept[key] = found

    def count(self, plan: QueryPlan) -> int:
        return len(self.by_plan.get(id(plan), ()))


class DeclarationCache:
    """Per-process copies of each org's declarations (read on every query and record call),
    ``ttl`` seconds old at most (default ``caching.freshness()``: a schema change made through
    another worker or replica is seen within it; this process's own changes at once, the copy
    is dropped when they commit), at most ``max_orgs`` orgs (the oldest copy goes first)."""

    def __init__(self, ttl: float | None = None, max_orgs: int = DECLARATIONS_MAX_ORGS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = caching.freshness() if ttl is None else ttl
        self._max, self._clock = max_orgs, clock
        self._copies: dict[str, tuple[float, tuple[tuple[dict[str, Any], str | None], ...]]] = {}
        caching.holds_facts(self)

    def get(self, org_id: str, load: Callable[[], Declarations]) -> Declarations:
        now = self._clock()
        found = self._copies.get(org_id)
        if found is None or found[0] <= now:
            rows = tuple(load())
            self._copies.pop(org_id, None)
            while len(self._copies) >= self._max:
                self._copies.pop(next(iter(self._copies)), None)
            found = self._copies[org_id] = (now + self._ttl, rows)
        return [(dict(decl), prefix) for decl, prefix in found[1]]  # callers may not share

    def forget(self, org_id: str) -> None:
        """Drop one org's copy (also called with a token digest by ``caching.apply``: a no-op)."""
        self._copies.pop(org_id, None)

    def clear(self) -> None:
        """Drop every copy (another process changed a custom object: ``caching.apply``)."""
        self._copies.clear()


#: SQLite's and PostgreSQL's texts for a statement nested deeper than they evaluate.
_TOO_COMPLEX = re.compile(r"too large|too deep|stack depth|too complex", re.IGNORECASE)


@dataclass
class Built:
    """What a store builds once and the stores of its transactions reuse: each object's
    ``Source`` (its SQLAlchemy table, which compiled statements are cached against) and the
    statements that read records by Id. Built again for each transaction, every single create
    rebuilt its object's table and compiled its INSERT anew."""

    sources: dict[tuple[Any, ...], Source] = field(default_factory=dict)
    by_id: Lru[tuple[Source, tuple[str, ...]], ById] = field(
        default_factory=lambda: Lru(BY_ID_MAX))
    by_ids: Lru[tuple[Source, tuple[str, ...]], ById] = field(
        default_factory=lambda: Lru(BY_ID_MAX))
    #: ``find_ids``' statements by object, field and limit (a delete's cascades: one per child
    #: relationship and record), the value bound on each call.
    find_ids: Lru[tuple[Source, str, int], Any] = field(default_factory=lambda: Lru(BY_ID_MAX))


class SqlRecordStore:
    def __init__(self, engine: Engine, connection: Connection | None = None,
                 declarations: DeclarationCache | None = None,
                 changed_orgs: set[str] | None = None,
                 statements: Statements | None = None, built: Built | None = None) -> None:
        self._engine = engine
        self._reader = single_statement_reader(engine)
        self._raw = RawReads.for_engine(engine)
        self._connection = connection
        self._built = built if built is not None else Built()
        self._declarations = declarations or DeclarationCache()
        self._changed_orgs = changed_orgs if changed_orgs is not None else set()
        self.statements = statements if statements is not None else Statements()

    @contextmanager
    def transaction(self) -> Iterator[SqlRecordStore]:
        if self._connection is not None:
            yield self
            return
        changed: set[str] = set()
        try:
            with self._engine.begin() as connection:
                yield self._within(connection, changed)
        finally:  # after the commit: a copy re-read meanwhile held the old schema
            for org_id in changed:
                self._declarations.forget(org_id)
            if changed:
                caching.announce()  # the other processes' copies

    def _within(self, connection: Connection, changed_orgs: set[str]) -> SqlRecordStore:
        """This store on a transaction's connection: all else shared (its reader engine made
        once, not an engine's ``execution_options`` per transaction)."""
        store = copy.copy(self)
        store._connection, store._changed_orgs = connection, changed_orgs
        return store

    @property
    def connection(self) -> Connection:
        """The transaction's connection (only on a store from ``transaction()``)."""
        assert self._connection is not None
        return self._connection

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        if self._connection is not None:
            yield self._connection
        else:
            with self._engine.begin() as connection:
                yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for one read statement: the transaction's, else one outside any
        transaction (``single_statement_reader``: the statement reads one snapshot, and on
        SQLite never waits for the write lock). Every read method here is one statement; a
        second one on this connection would see another snapshot."""
        with _too_complex:
            if self._connection is not None:
                yield self._connection
            else:
                with self._reader.connect() as connection:
                    yield connection

    def _rows(self, statement: Any, params: dict[str, Any] | None = None, *,
              kept: bool = True) -> Sequence[Any]:
        """One read statement's rows: outside a transaction straight through the DBAPI
        (storage/sql/raw_reads.py), else on ``_read``'s connection. ``kept=False``: a
        statement made for this call only, not worth compiling for the DBAPI path."""
        if kept and self._connection is None and self._raw is not None:
            with _too_complex:
                rows = self._raw.rows(statement, params)
            if rows is not None:
                return rows
        with self._read() as conn:
            return conn.execute(statement, params).all()

    def source(self, obj: ObjectDef) -> Source:
        key = (obj.name, obj.stored_names, obj.describe.get("x-targets"))
        found = self._built.sources.get(key)
        if found is None:
            if obj.kind == "polymorphic":
                schema = standard_schema()
                targets = [self.source(t) for t in (schema.get(n) for n in
                                                    obj.describe["x-targets"]) if t]
                found = self._built.sources[key] = NameSource(obj, targets)
            else:
                binding = BINDINGS.get(obj.name) if obj.kind == "directory" else None
                found = self._built.sources[key] = Source(obj, binding)
        return found

    def _table(self, obj: ObjectDef) -> Table:
        return typing.cast(Table, self.source(obj).table)  # a record table: not polymorphic

    # -- declarations ----------------------------------------------------------------

    def declarations(self, org_id: str, fresh: bool = False) -> Declarations:
        if self._connection is not None:  # inside a transaction: see its own changes
            return self._read_declarations(org_id)
        if fresh:
            self._declarations.forget(org_id)
        return self._declarations.get(org_id, lambda: self._read_declarations(org_id))

    def _read_declarations(self, org_id: str) -> Declarations:
        c = t.custom_objects.c
        with self._read() as conn:
            rows = conn.execute(select(c.declaration, c.key_prefix).where(c.org_id == org_id)
                                .order_by(c.created_at, c.name)).all()
        return [(dict(r.declaration), r.key_prefix) for r in rows]

    def next_key_prefix(self, org_id: str) -> str:
        c = t.custom_objects.c
        with self._conn() as conn:
            used = conn.execute(select(func.count()).where(
                c.org_id == org_id, c.key_prefix.is_not(None))).scalar_one()
        n = used + 1  # a01, a02 … like a fresh org's first custom objects
        return "a" + _BASE62[n // 62] + _BASE62[n % 62]

    def save_declaration(self, org_id: str, declaration: dict[str, Any],
                         objects: Sequence[ObjectDef]) -> None:
        now = int(time.time())
        c = t.custom_objects.c
        self._changed_orgs.add(org_id)
        self._declarations.forget(org_id)
        with self._conn() as conn:
            existing = conn.execute(select(c.name).where(
                c.org_id == org_id, c.name == declaration["name"])).first()
            if existing is None:
                prefix = next((o.key_prefix for o in objects
                               if o.name == declaration["name"] and o.custom), None)
                conn.execute(insert(t.custom_objects).values(
                    org_id=org_id, name=declaration["name"], key_prefix=prefix,
                    declaration=declaration, created_at=now, modified_at=now))
            else:
                conn.execute(update(t.custom_objects).where(
                    c.org_id == org_id, c.name == declaration["name"]).values(
                    declaration=declaration, modified_at=now))
            for obj in objects:
                self._sync_table(conn, obj)
        self._declarations.forget(org_id)  # committed (outside a transaction)
        if self._connection is None:
            caching.announce()

    def _sync_table(self, conn: Connection, obj: ObjectDef) -> None:
        """Create the object's table, or add the columns and indexes it lacks."""
        table = record_table(obj)
        inspector = inspect(conn)
        if not inspector.has_table(table.name):
            table.create(conn)
            search_index.create(conn, obj)
            return
        have = {col["name"] for col in inspector.get_columns(table.name)}
        preparer = conn.dialect.identifier_preparer
        added = [f for f in obj.stored_fields if f.name not in have]
        for f in added:
            column = Column(f.name, column_type(f))
            ddl_type = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN "
                                 f"{preparer.quote(f.name)} {ddl_type}")
        indexes = _index_names(conn, table.name)
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)
        if any(f.type in search_index.SEARCH_TYPES for f in added):
            search_index.rebuild(conn, obj)  # the index covers every searchable column

    # -- records -----------------------------------------------------------------------

    def insert(self, obj: ObjectDef, org_id: str, values: Mapping[str, Any]) -> None:
        self.insert_many(obj, org_id, [values])  # prebuilt SQL: no statement built per row

    def insert_many(self, obj: ObjectDef, org_id: str, rows: Sequence[Mapping[str, Any]]
                    ) -> None:
        """``insert_rows`` of dicts, naming only the columns some row sets (the others are
        null either way)."""
        if not rows:
            return
        given = set().union(*rows)
        names = [c.name for c in self._table(obj).columns
                 if c.name != "org_id" and c.name in given]
        self.insert_rows(obj, org_id, names, [tuple(map(row.get, names)) for row in rows])

    def insert_rows(self, obj: ObjectDef, org_id: str, names: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Prebuilt DBAPI SQL (SQLAlchemy's per-parameter processing cost more than the
        insert itself on a Bulk job's 10,000 rows), ``ROWS_PER_INSERT`` rows per statement
        (one ``executemany`` of one-row statements spent more a row in the driver and
        SQLite's per-statement work, bench/README.md), then the SOSL index's fill."""
        if not rows:
            return
        table = self._table(obj)
        per = max(1, min(ROWS_PER_INSERT, MAX_PARAMETERS // (len(names) + 1)))
        with self._conn() as conn:
            quote = conn.dialect.identifier_preparer.quote
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            head = (f"INSERT INTO {quote(table.name)} (org_id, {', '.join(map(quote, names))}) "
                    "VALUES ")
            one = f"({', '.join([mark] * (len(names) + 1))})"
            since = search_index.high_water(conn, obj)
            whole = len(rows) - len(rows) % per
            if whole:
                sql = head + ", ".join([one] * per)
                flat = itertools.chain.from_iterable  # half a generator's cost per row
                conn.exec_driver_sql(sql, [
                    tuple(flat((org_id, *row) for row in rows[start:start + per]))
                    for start in range(0, whole, per)])
            if whole < len(rows):
                conn.exec_driver_sql(head + one, [(org_id, *row) for row in rows[whole:]])
            search_index.index_after(conn, obj, since, names)  # the SOSL index: one statement

    def insert_if_absent(self, obj: ObjectDef, org_id: str, values: Mapping[str, Any]) -> None:
        table = self._table(obj)
        with self._conn() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            since = search_index.high_water(conn, obj)
            conn.execute(dialect.insert(table).values(org_id=org_id, **values)
                         .on_conflict_do_nothing(index_elements=["Id"]))
            search_index.index_after(conn, obj, since)

    def get(self, obj: ObjectDef, org_id: str, record_id: str,
            fields: Sequence[FieldDef]) -> dict[str, Any] | None:
        source = self.source(obj)
        key = (source, tuple(f.name for f in fields))
        by_id = self._built.by_id.get(key)
        if by_id is None:  # built once per shape; the org and Id are bound on each call
            by_id = ById(source, fields)
            self._built.by_id.put(key, by_id)
        rows = self._rows(by_id.statement, {"org_id": org_id, "record_id": record_id})
        return by_id.decode(rows[0]) if rows else None

    def get_many(self, obj: ObjectDef, org_id: str, record_ids: Sequence[str],
                 fields: Sequence[FieldDef]) -> dict[str, dict[str, Any]]:
        """``get`` of many records by 18-character Id, a statement per ``IN_SLICE`` Ids; the
        Ids of no record are left out."""
        source = self.source(obj)
        key = (source, tuple(f.name for f in fields))
        by_id = self._built.by_ids.get(key)
        if by_id is None:
            by_id = ById(source, fields, many=True)
            self._built.by_ids.put(key, by_id)
        out: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(record_ids))
        with self._read() as conn:
            for start in range(0, len(wanted), IN_SLICE):
                for row in conn.execute(by_id.statement, {
                        "org_id": org_id, "record_ids": wanted[start:start + IN_SLICE]}):
                    out[row[-1]] = by_id.decode(row[:-1])
        return out

    def update_many(self, obj: ObjectDef, org_id: str,
                    changes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """``update`` of many records: one DBAPI ``executemany`` per set of columns changed
        (records changing the same columns share a statement), as ``insert_many`` writes."""
        if not changes:
            return
        table = self._table(obj)
        shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for record_id, values in changes:
            names = tuple(values)
            shapes.setdefault(names, []).append((*values.values(), record_id, org_id))
        for names in shapes:
            for name in names:
                table.c[name]  # noqa: B018 - a name of no column: KeyError, nothing written
        with self._conn() as conn:
            quote = conn.dialect.identifier_preparer.quote
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            for names, params in shapes.items():
                assigns = ", ".join(f"{quote(n)} = {mark}" for n in names)
                conn.exec_driver_sql(f"UPDATE {quote(table.name)} SET {assigns} WHERE "
                                     f'"Id" = {mark} AND org_id = {mark}', params)

    def remove_many(self, obj: ObjectDef, org_id: str, record_ids: Sequence[str]) -> None:
        """``remove`` of many records in one ``executemany``."""
        if not record_ids:
            return
        table = self._table(obj)
        with self._conn() as conn:
            quote = conn.dialect.identifier_preparer.quote
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            conn.exec_driver_sql(f'DELETE FROM {quote(table.name)} WHERE "Id" = {mark} AND '
                                 f"org_id = {mark}", [(i, org_id) for i in record_ids])

    def update(self, obj: ObjectDef, org_id: str, record_id: str,
               values: Mapping[str, Any]) -> None:
        # Prebuilt DBAPI SQL: a statement built and compiled with the values cost more than
        # the update itself.
        self.update_many(obj, org_id, [(record_id, values)])

    def remove(self, obj: ObjectDef, org_id: str, record_id: str) -> None:
        table = self._table(obj)
        with self._conn() as conn:  # the SOSL index's delete trigger drops its entry
            conn.execute(delete(table).where(table.c.Id == record_id,
                                             table.c.org_id == org_id))

    def find_ids(self, obj: ObjectDef, org_id: str, f: FieldDef, value: Any,
                 limit: int = 10) -> list[str]:
        source = self.source(obj)
        text = f.type in TEXT_TYPES and isinstance(value, str)
        if not text and value is not None:  # an Id, a number: the statement is kept
            key = (source, f.name, limit)
            kept = self._built.find_ids.get(key)
            if kept is None:  # the org and the value bound on each call
                alias = source.alias("r")
                kept = (select(source.id(alias))
                        .where(source.scope(alias, bindparam("org_id"), False),
                               source.column(alias, f) == bindparam("value"))
                        .order_by(source.id(alias)).limit(limit))
                self._built.find_ids.put(key, kept)
            return [row[0] for row in self._rows(kept, {"org_id": org_id, "value": value})]
        alias = source.alias("r")
        column = source.column(alias, f)
        if text:
            fold = folding([value])
            test = fold(column) == fold(literal(value))
        else:
            test = column == value
        stmt = (select(source.id(alias)).where(source.scope(alias, org_id, False), test)
                .order_by(source.id(alias)).limit(limit))
        with self._read() as conn:  # not the writer's: reading needs no write lock
            return list(conn.execute(stmt).scalars())

    def find_many(self, obj: ObjectDef, org_id: str, f: FieldDef, values: Sequence[Any],
                  limit: int | None = None) -> list[tuple[str, Any]]:
        """``(Id, value of f)`` of live records whose ``f`` is one of ``values`` (text
        compared case-insensitively, as ``find_ids``), by Id; at most ``limit`` of them."""
        source = self.source(obj)
        alias = source.alias("r")
        column = source.column(alias, f)
        wanted = list(dict.fromkeys(values))
        tests: list[tuple[Any, list[Any], bool]]
        if f.type in TEXT_TYPES:  # the indexed lower() for ASCII values, else unicode_lower
            ascii_ = [v.lower() for v in wanted if isinstance(v, str) and v.isascii()]
            other = [v for v in wanted if not (isinstance(v, str) and v.isascii())]
            tests = [(func.lower(column), ascii_, False), (unicode_lower(column), other, True)]
        else:
            tests = [(column, wanted, False)]
        out: list[tuple[str, Any]] = []
        with self._read() as conn:  # not the writer's: reading needs no write lock
            for expr, items, fold in tests:
                for start in range(0, len(items), IN_SLICE):
                    part = items[start:start + IN_SLICE]
                    test = expr.in_([unicode_lower(literal(v)) for v in part]) if fold \
                        else expr.in_(part)
                    stmt = select(source.id(alias), column).where(
                        source.scope(alias, org_id, False), test).order_by(source.id(alias))
                    if limit is not None:
                        stmt = stmt.limit(limit - len(out))
                    out.extend((str(r[0]), r[1]) for r in conn.execute(stmt))
                    if limit is not None and len(out) >= limit:
                        return sorted(out)
        return sorted(out)

    def next_number(self, obj: ObjectDef, org_id: str, f: FieldDef) -> int:
        table = self._table(obj)
        with self._conn() as conn:
            top = conn.execute(select(func.max(table.c[f.name])).where(
                table.c.org_id == org_id)).scalar()
        return int(top) + 1 if top else 1001

    # -- queries -----------------------------------------------------------------------

    def _compiled(self, plan: QueryPlan, key: Any,
                  build: Callable[[Compiler], Select[Any]]) -> tuple[Select[Any], Codecs]:
        """The statement ``build`` makes of ``plan``, with its codecs. Kept for the plan under
        ``key`` (what besides the plan shapes the SQL, ``Statements``), so a plan reused for
        later calls (``data/query.py``) is compiled once; ``key=None``: this call's only."""
        kept = self.statements.by_plan.get(id(plan)) if key is not None else None
        found = kept.get(key) if kept is not None else None
        if found is None:
            compiler = Compiler(plan, self.source)
            stmt = build(compiler)  # before the codecs: compiling adds the joins they read
            found = (stmt, tuple(_codec(compiler, expr) for expr in plan.selects))
            if key is not None:
                self.statements.keep(plan, key, found)
        return found

    @staticmethod
    def _decode(codecs: Codecs, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not any(codecs):
            return [tuple(row[:len(codecs)]) for row in rows]
        out = []
        for row in rows:
            values = list(row[:len(codecs)])
            for i, codec in enumerate(codecs):
                if codec is not None:
                    values[i] = codec[0].from_db(codec[1], values[i])
            out.append(tuple(values))
        return out

    def run(self, plan: QueryPlan, offset: int = 0, limit: int | None = None
            ) -> list[tuple[Any, ...]]:
        stmt, codecs = self._compiled(plan, ("run", offset, limit),
                                      lambda c: c.select(offset, limit))
        return self._decode(codecs, self._rows(stmt))

    def page(self, plan: QueryPlan, limit: int, offset: int = 0,
             after: Sequence[Any] | None = None) -> list[tuple[tuple[Any, ...], list[Any]]]:
        # A later page's sort key is part of its SQL: that statement is not kept.
        key = ("page", offset, limit) if after is None else None
        stmt, codecs = self._compiled(plan, key, lambda c: c.select(
            offset, limit, after=after, keyed=True))
        rows = self._rows(stmt, kept=key is not None)
        n = len(codecs)
        if not any(codecs):  # one pass: the values as read, then the sort key
            return [(tuple(r[:n]), list(r[n:])) for r in rows]
        decoded = self._decode(codecs, rows)
        return [(d, list(r[n:])) for d, r in zip(decoded, rows, strict=True)]

    def count(self, plan: QueryPlan) -> int:
        stmt, _ = self._compiled(plan, "count", Compiler.count)
        return int(self._rows(stmt)[0][0])

    def run_children(self, plan: QueryPlan, lookup: FieldDef,
                     parent_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        if not parent_ids:
            return []

        def build(compiler: Compiler) -> Select[Any]:
            fk = compiler.root_source.column(compiler.root, lookup)
            parents: BindParameter[Any] = bindparam("parent_ids", expanding=True)  # on each call
            return compiler.select(extra=[fk.in_(parents)], extra_columns=[fk])

        stmt, codecs = self._compiled(plan, ("children", lookup.name), build)
        with self._read() as conn:
            rows = conn.execute(stmt, {"parent_ids": list(parent_ids)}).all()
        decoded = self._decode(codecs, rows)
        return [d + (row[-1],) for d, row in zip(decoded, rows, strict=True)]

    def searchable(self, obj: ObjectDef) -> bool:
        return search_index.searchable(obj)

    def search(self, plan: QueryPlan, term: Term, scope: str, limit: int,
               offset: int = 0) -> list[tuple[Any, ...]]:
        dialect = self._engine.dialect.name

        def build(compiler: Compiler) -> Select[Any]:
            compiler.lead, match = search_index.condition(dialect, compiler.root, plan.root,
                                                          scope)
            # Unordered unless asked: the index's order, so a LIMIT stops the search early.
            return compiler.select(offset, limit, extra=[match],
                                   ordered=bool(plan.select.order_by))

        stmt, codecs = self._compiled(plan, ("search", scope, limit, offset), build)
        with self._read() as conn:
            rows = conn.execute(stmt, {search_index.PARAM: search_index.match_text(
                dialect, term, scope)}).all()
        return self._decode(codecs, rows)

    def explain(self, plan: QueryPlan) -> tuple[str, list[str]]:
        compiler = Compiler(plan, self.source)
        stmt = compiler.select()
        with self._read() as conn:
            dialect = conn.dialect
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + sql).all()
        lines = [str(r[-1]) if dialect.name == "sqlite" else str(r[0]) for r in rows]
        return sql, lines

    # -- cursors and usage -----------------------------------------------------------------

    def save_cursor(self, cursor: Cursor) -> None:
        values = {"org_id": cursor.org_id, "user_id": cursor.user_id, "soql": cursor.soql,
                  "query_all": cursor.query_all, "batch_size": cursor.batch_size,
                  "total_size": cursor.total_size, "keys": dict(cursor.keys),
                  "expires_at": cursor.expires_at}
        c = t.query_cursors.c
        with self._conn() as conn:
            done = conn.execute(update(t.query_cursors).where(c.id == cursor.id).values(**values))
            if done.rowcount == 0:
                conn.execute(insert(t.query_cursors).values(id=cursor.id, **values))

    def get_cursor(self, cursor_id: str) -> Cursor | None:
        c = t.query_cursors.c
        with self._read() as conn:
            row = conn.execute(select(t.query_cursors).where(c.id == cursor_id)).first()
        if row is None:
            return None
        return Cursor(row.id, row.org_id, row.user_id, row.soql, row.query_all, row.batch_size,
                      row.total_size, dict(row.keys), row.expires_at)


def _codec(compiler: Compiler, expr: Expr) -> tuple[Source, FieldDef] | None:
    field: FieldDef | None = getattr(expr, "field", None)
    # An expression with a field reads it through that field's path.
    source = compiler.source_of(expr) if field is not None else None  # type: ignore[arg-type]
    return (source, field) if source is not None and field is not None and source.binding \
        else None


class ById:
    """Reading one record's stored ``fields`` (and its deleted flag) by bound ``org_id`` and
    ``record_id``: the statement and the row's decoding, made once per shape."""

    def __init__(self, source: Source, fields: Sequence[FieldDef], many: bool = False) -> None:
        self.source = source
        self.wanted = [f for f in fields if f.stored]
        self.names = [f.name for f in self.wanted]
        alias = source.alias("r")
        columns = [source.column(alias, f).label(f"c{i}") for i, f in enumerate(self.wanted)]
        deleted = alias.c.IsDeleted if source.binding is None else false()
        key = source.id(alias)
        # many: Ids bound as a list, each row's Id read last
        self.statement = select(deleted.label("deleted"), *columns, *(
            [key.label("record_id")] if many else [])).where(
            key.in_(bindparam("record_ids", expanding=True)) if many
            else key == bindparam("record_id"),
            source.scope(alias, bindparam("org_id"), True))

    def decode(self, row: Sequence[Any]) -> dict[str, Any]:
        """Stored values by field name, plus ``IsDeleted``."""
        if self.source.binding is None:  # a record table holds them as stored
            out = dict(zip(self.names, row[1:], strict=True))
        else:
            out = {f.name: self.source.from_db(f, value)
                   for f, value in zip(self.wanted, row[1:], strict=True)}
        out["IsDeleted"] = bool(row[0])
        return out


def _index_names(conn: Connection, table: str) -> set[str]:
    """Index names from the catalogue (the inspector skips expression indexes, with a warning)."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = :t"
    return {str(r[0]) for r in conn.execute(text(sql), {"t": table})}


class _TooComplex:
    """A statement deeper than the database evaluates is the caller's QUERY_TOO_COMPLICATED,
    not a server error (a class, not a generator's context: entered on every read)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, _kind: object, exc: BaseException | None, _tb: object) -> None:
        if isinstance(exc, OperationalError) and _TOO_COMPLEX.search(str(exc.orig)):
            raise BadRequest("QUERY_TOO_COMPLICATED", "Query is either selecting too many "
                             "fields or the filter conditions are too complicated.") from None


_too_complex = _TooComplex()
