"""SOSL's full-text index per searchable record object: SQLite FTS5, PostgreSQL GIN.

Each object's searchable text fields (``SEARCH_TYPES``) fall in four groups that
``IN … FIELDS`` picks from: name fields, email fields, phone fields, the rest.

- SQLite: an FTS5 table ``search_<object>`` with one column per group and the record row's
  ``rowid`` as its own. New rows are indexed by the record store in the transaction that
  inserts them, one ``INSERT … SELECT`` over the rowids it added (``high_water`` before,
  ``index_after`` after): a Bulk transaction's 10,000 rows in one statement, which costs a
  fraction of an ``AFTER INSERT`` trigger's statement per row (what the index did before
  migration 0015). Triggers keep it in step on delete and on update of a searchable column.
  A committed record is therefore found at once, never a moment later. A search joins it by
  rowid (``search_x MATCH :q``): FTS5 finds the rows, the record table's scope (org, not
  deleted), WHERE and ORDER BY do the rest.
  The index is contentless (migration 0025): it holds the words only, so a row leaves it by
  FTS5's ``'delete'`` command given the words it was indexed with, the record row's old
  values; a search reads nothing from it but the rowids that match.
  (``VACUUM`` may renumber the rowids of a table without an INTEGER PRIMARY KEY: after one,
  ``rebuild`` each object's index.)
- PostgreSQL: a GIN expression index on the ``simple`` text-search vector of every
  searchable column (punctuation blanked first, so ``ada@acme.com`` is the words ``ada acme
  com`` as on SQLite); a search names the same expression, and a narrower ``IN NAME FIELDS``
  also checks that group's own vector on the rows the index found.

Both cut words at anything that is not a letter or digit and compare them case-insensitively,
diacritics kept (``ölwerk`` finds ``Ölwerk``, not ``olwerk``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    TextClause,
    bindparam,
    column,
    table,
    text,
)
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.expression import ColumnClause

from localforce.data.schema import FieldDef, ObjectDef
from localforce.soql.sosl import And, Not, Phrase, Term
from localforce.storage.sql.record_tables import table_name

SEARCH_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "combobox"})
GROUPS = ("name", "email", "phone", "other")
#: ``IN … FIELDS`` -> the groups it searches (SIDEBAR: what the sidebar searches, the names).
SCOPE_GROUPS = {"ALL": GROUPS, "NAME": ("name",), "EMAIL": ("email",), "PHONE": ("phone",),
                "SIDEBAR": ("name",)}
PARAM = "search_q"
#: Contentless (``content=''``): the index keeps the words, not a second copy of the text,
#: and no per-row sizes (``columnsize=0``: SOSL does not rank by bm25); a Bulk insert's
#: fill cost 4.5 -> 2.9 us a row (bench/README.md). Its rows are taken out by FTS5's
#: ``'delete'`` command with the words they went in with: the record row's old values.
FTS5_OPTIONS = ("tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3', content = '', "
                "columnsize = 0")


def groups(obj: ObjectDef) -> dict[str, list[FieldDef]]:
    out: dict[str, list[FieldDef]] = {g: [] for g in GROUPS}
    for f in obj.stored_fields:
        if f.type not in SEARCH_TYPES:
            continue
        group = ("name" if f.flag("nameField") else f.type if f.type in ("email", "phone")
                 else "other")
        out[group].append(f)
    return out


def searchable(obj: ObjectDef) -> bool:
    """Record objects Salesforce marks searchable, with at least one text field."""
    return (obj.kind == "records" and bool(obj.describe.get("searchable"))
            and any(groups(obj).values()))


def index_name(obj: ObjectDef) -> str:
    return f"search_{obj.name.lower()}"[:63]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _concat(fields: list[FieldDef], prefix: str) -> str:
    if not fields:
        return "''"
    return " || ' ' || ".join(f"coalesce({prefix}{_q(f.name)}, '')" for f in fields)


def _vector(fields: list[FieldDef], prefix: str = "") -> str:
    """PostgreSQL: the text-search vector of ``fields`` (the index's expression when
    ``prefix`` is empty; a query names it qualified, which PostgreSQL matches to the index)."""
    return (f"to_tsvector('simple'::regconfig, regexp_replace({_concat(fields, prefix)}, "
            f"'[[:space:][:punct:]]+', ' ', 'g'))")


def _all(obj: ObjectDef) -> list[FieldDef]:
    return [f for group in groups(obj).values() for f in group]


# -- DDL ---------------------------------------------------------------------------------


def create(conn: Connection, obj: ObjectDef) -> None:
    """Create the object's index and fill it from the rows already there."""
    if not searchable(obj):
        return
    name, table = index_name(obj), table_name(obj.name)
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {_q('ix_' + name)} ON {_q(table)} "
                             f"USING gin ({_vector(_all(obj))})")
        return
    by_group = groups(obj)
    columns = ", ".join(GROUPS)

    def values(row: str) -> str:
        return ", ".join(_concat(by_group[g], row + ".") for g in GROUPS)

    watched = ", ".join(_q(f.name) for f in _all(obj))
    delete = (f"INSERT INTO {name}({name}, rowid, {columns}) "
              f"VALUES ('delete', old.rowid, {values('old')});")
    add = f"INSERT INTO {name}(rowid, {columns}) VALUES (new.rowid, {values('new')});"
    for sql in (
        f"CREATE VIRTUAL TABLE {name} USING fts5({columns}, {FTS5_OPTIONS})",
        f"CREATE TRIGGER {name}_ad AFTER DELETE ON {_q(table)} BEGIN {delete} END",
        f"CREATE TRIGGER {name}_au AFTER UPDATE OF {watched} ON {_q(table)} "
        f"BEGIN {delete} {add} END",
    ):
        conn.exec_driver_sql(sql)
    index_after(conn, obj, 0)


def _fill_sql(obj: ObjectDef, given: Collection[str] | None = None) -> str:
    """``given``: the columns the insert named; the others are null in every new row and
    left out of the text (the same words: a null adds none). Most of the fill's cost was
    reading and joining the columns a Bulk job leaves null (bench/README.md)."""
    by_group = groups(obj)
    table = _q(table_name(obj.name))
    values = ", ".join(_concat([f for f in by_group[g] if given is None or f.name in given],
                               table + ".") for g in GROUPS)
    return (f"INSERT INTO {index_name(obj)}(rowid, {', '.join(GROUPS)}) "
            f"SELECT rowid, {values} FROM {table} WHERE rowid > ?")


def high_water(conn: Connection, obj: ObjectDef) -> int | None:
    """SQLite: the record table's largest rowid now, for ``index_after`` once the inserts are
    done (in the same transaction); None where there is nothing to do (PostgreSQL's index is
    the table's own, an object SOSL does not search)."""
    if conn.dialect.name != "sqlite" or not searchable(obj):
        return None
    found = conn.exec_driver_sql(
        f"SELECT max(rowid) FROM {_q(table_name(obj.name))}").scalar()
    return int(found or 0)


def index_after(conn: Connection, obj: ObjectDef, rowid: int | None,
                given: Collection[str] | None = None) -> None:
    """Index the rows added after ``rowid`` (``high_water``'s answer) in one statement. A
    rowid table without AUTOINCREMENT numbers new rows above its largest, so they are exactly
    the rows this transaction inserted (SQLite has one writer at a time). ``given``: the
    columns those inserts named, when known (the record columns have no SQL defaults, so
    the rest are null)."""
    if rowid is not None:
        conn.exec_driver_sql(_fill_sql(obj, given), (rowid,))


def drop(conn: Connection, obj: ObjectDef) -> None:
    name = index_name(obj)
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_q('ix_' + name)}")
        return
    for suffix in ("ai", "ad", "au"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def rebuild(conn: Connection, obj: ObjectDef) -> None:
    """After the object's searchable fields changed (a custom field added)."""
    drop(conn, obj)
    create(conn, obj)


# -- queries -------------------------------------------------------------------------------


def condition(dialect: str, alias: Any, obj: ObjectDef, scope: str
              ) -> tuple[tuple[FromClause, ColumnElement[Any]] | None, TextClause]:
    """What selects the rows of ``alias`` that match the bound ``search_q`` (``match_text``):
    on SQLite the FTS5 table to read first with how it meets ``alias`` (the record table is
    then read by rowid, and a LIMIT without ORDER BY stops after that many matches), and the
    condition."""
    param: BindParameter[str] = bindparam(PARAM)
    if dialect == "sqlite":
        name = index_name(obj)
        fts = table(name, column("rowid"))
        return ((fts, fts.c.rowid == ColumnClause("rowid", _selectable=alias)),
                text(f"{name} MATCH :{PARAM}").bindparams(param))
    prefix = _q(alias.name) + "."
    sql = f"{_vector(_all(obj), prefix)} @@ to_tsquery('simple', :{PARAM})"
    if scope != "ALL":
        by_group = groups(obj)
        narrow = [f for g in SCOPE_GROUPS[scope] for f in by_group[g]]
        sql += f" AND {_vector(narrow, prefix)} @@ to_tsquery('simple', :{PARAM})"
    return None, text(sql).bindparams(param)


def match_text(dialect: str, term: Term, scope: str) -> str:
    """The bound value of ``condition``: an FTS5 query or a ``tsquery``."""
    if dialect != "sqlite":
        return _tsquery(term)
    query = _fts5(term)
    if scope == "ALL":
        return query
    return "{" + " ".join(SCOPE_GROUPS[scope]) + "} : (" + query + ")"


def _fts5(term: Term) -> str:
    if isinstance(term, Phrase):
        return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")
    if isinstance(term, Not):
        return f"({_fts5(term.keep)} NOT {_fts5(term.drop)})"
    glue = " AND " if isinstance(term, And) else " OR "
    return "(" + glue.join(_fts5(p) for p in term.parts) + ")"


def _tsquery(term: Term) -> str:
    if isinstance(term, Phrase):
        words = [f"'{w}'" for w in term.words]
        if term.prefix:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"
    if isinstance(term, Not):
        return f"({_tsquery(term.keep)} & !{_tsquery(term.drop)})"
    glue = " & " if isinstance(term, And) else " | "
    return "(" + glue.join(_tsquery(p) for p in term.parts) + ")"

