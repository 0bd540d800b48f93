"""A resolved SOQL plan -> one SQLAlchemy ``Select``: the database filters, sorts and pages.

The only module that sees both the SOQL syntax tree and SQLAlchemy. Semantics carried over
(SOQL & SOSL Reference):

* every statement is scoped to the org, and ``/query`` skips deleted rows (``queryAll`` not);
* text comparisons are case-insensitive: ``lower()`` on both sides, in SQL, so each database
  folds the column and the literal alike; ``lower(Name)`` is indexed. SQLite's ``lower()``
  folds ASCII only, so a literal with other letters (``'ölwerk'``) is compared through
  ``lf_lower`` (Python's ``str.lower``, registered on every SQLite connection by
  ``storage/sql/engine.py``) on both sides instead: ``'ölwerk'`` finds ``'Ölwerk'`` as on
  PostgreSQL and Salesforce, without the index;
* ``!=`` and ``NOT IN`` also match nulls ("null is a value" in SOQL filters);
* ``ORDER BY`` sorts text case-insensitively, nulls first unless ``NULLS LAST``; record
  queries add ``Id`` as the last key so the order is total, and the next page starts after the
  last row's sort key (keyset paging: rows inserted or deleted meanwhile shift nothing);
* parent paths (``Account.Owner.Name``) are LEFT OUTER JOINs, one per distinct hop prefix;
* semi-/anti-joins are ``IN (SELECT …)`` with nulls removed from the inner select.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.expression import Join
from sqlalchemy.sql.functions import GenericFunction

from localforce.data.plan import AggregateExpr, DatePart, Expr, GroupingExpr, Path, QueryPlan
from localforce.data.schema import TEXT_TYPES, FieldDef, ObjectDef
from localforce.soql import ast
from localforce.storage.sql.record_tables import Binding, record_table

Col = ColumnElement[Any]
CASE_INSENSITIVE = TEXT_TYPES - {"time"}


class Source:
    """One object's rows: a record table or a directory binding, with value codecs."""

    def __init__(self, obj: ObjectDef, binding: Binding | None) -> None:
        self.obj, self.binding = obj, binding
        self.table: FromClause = binding.table if binding else record_table(obj)
        self._aliases: dict[str, FromClause] = {}

    def alias(self, name: str) -> FromClause:
        """The table under ``name``, built once per source: an alias of a ~60-column table
        builds a proxy per column when its ``.c`` is first read, which was a third of a
        query's CPU when every statement made fresh aliases. Aliases are immutable, so
        statements share them; ``.c`` is filled before the alias is published to other
        threads."""
        found = self._aliases.get(name)
        if found is None:
            found = self.table.alias(name)
            found.c  # noqa: B018 - populate the column proxies now, once
            self._aliases[name] = found
        return found

    def column(self, alias: FromClause, f: FieldDef) -> Col:
        if self.binding is not None:
            return self.binding.column(alias, f)
        if f.name in alias.c:
            return alias.c[f.name]
        return literal(None)

    def id(self, alias: FromClause) -> Col:
        return alias.c[self.binding.id_column] if self.binding else alias.c.Id

    def scope(self, alias: FromClause, org_id: str | Col, query_all: bool) -> Col:
        if self.binding is not None:
            return alias.c[self.binding.org_column] == org_id
        live = true() if query_all else alias.c.IsDeleted == false()
        return and_(alias.c.org_id == org_id, live)

    def to_db(self, f: FieldDef, value: Any) -> Any:
        return self.binding.to_db(f, value) if self.binding else value

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return self.binding.from_db(f, value) if self.binding else value


class NameSource(Source):
    """The ``Name`` object of a polymorphic lookup: ``UNION ALL`` of its parent objects'
    Id, Name and Type (their object name), scoped like a record table."""

    def __init__(self, obj: ObjectDef, targets: Sequence[Source]) -> None:
        self.obj, self.binding = obj, None
        self._aliases = {}
        parts = []
        for target in targets:
            table = target.table
            name_field = target.obj.field("Name")
            assert name_field is not None
            org = (table.c[target.binding.org_column] if target.binding
                   else table.c.org_id)
            deleted = false() if target.binding else table.c.IsDeleted
            parts.append(select(org.label("org_id"), target.id(table).label("Id"),
                                target.column(table, name_field).label("Name"),
                                literal(target.obj.name).label("Type"),
                                deleted.label("IsDeleted")))
        self.table = union_all(*parts).subquery("name_" + "_".join(
            t.obj.name.lower() for t in targets))


Sources = Callable[[ObjectDef], Source]


class Compiler:
    """Compiles one plan (and, recursively, its semi-joins) against aliased sources."""

    def __init__(self, plan: QueryPlan, sources: Sources, depth: int = 0) -> None:
        self.plan, self.sources = plan, sources
        self.prefix = f"s{depth}_" if depth else ""
        self.depth = depth
        self.root_source = sources(plan.root)
        self.root = self.root_source.alias(self.prefix + "t0")
        self.joins: dict[tuple[str, ...], tuple[FromClause, Source]] = {}
        #: A table to drive the statement and how it meets the root (a search index).
        self.lead: tuple[FromClause, Col] | None = None
        self.join_order: list[tuple[FromClause, Col]] = []

    # -- statements --------------------------------------------------------------------

    def select(self, offset: int = 0, limit: int | None = None,
               after: Sequence[Any] | None = None, keyed: bool = False,
               extra: Sequence[Any] = (), extra_columns: Sequence[Col] = (),
               ordered: bool = True) -> Select[Any]:
        """``after``: a sort key from a previous ``keyed`` select, whose rows end with theirs;
        ``ordered=False``: no ORDER BY at all (rows in whatever order the database finds
        them)."""
        plan = self.plan
        if plan.aggregate and plan.select.group_by_kind is not None:
            return self.grouping_sets(offset, limit)
        columns = [self.expr(e) for e in plan.selects] + list(extra_columns)
        if keyed:
            columns += [column for column, _, _ in self.order_keys()]
        where = self.where() + list(extra)
        if after is not None:
            where.append(self.after(after))
        # Compile every clause before the FROM: each parent path adds its join on first use.
        order = self.order_by() if ordered else []
        group = [self.operand(g) for g in plan.select.group_by] if plan.aggregate else []
        having = (self.condition(plan.select.having)
                  if plan.aggregate and plan.select.having is not None else None)
        stmt = select(*columns).select_from(self.from_clause()).where(*where)
        if group:
            stmt = stmt.group_by(*group)
        if having is not None:
            stmt = stmt.having(having)
        stmt = stmt.order_by(*order)
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        return stmt

    def grouping_sets(self, offset: int, limit: int | None) -> Select[Any]:
        """``GROUP BY ROLLUP|CUBE``: one GROUP BY per grouping set, UNION ALL-ed (SQLite has
        neither): a rolled-up field reads null and its ``GROUPING()`` 1. Each row also carries
        the group values and flags, which order the result: by the first field, its subtotal
        after its rows, then the next field (as PostgreSQL's ROLLUP lists them), unless the
        statement has an ORDER BY (of grouped fields or aggregates)."""
        plan = self.plan
        group = [plan.exprs[g] for g in plan.select.group_by]
        columns = [self.operand(g) for g in plan.select.group_by]
        n = len(group)
        if plan.select.group_by_kind == "ROLLUP":
            sets = [set(range(k)) for k in range(n, -1, -1)]
        else:
            sets = sorted((set(i for i in range(n) if mask >> (n - 1 - i) & 1)
                           for mask in range(2 ** n - 1, -1, -1)), key=lambda a: -len(a))
        having = (self.condition(plan.select.having)
                  if plan.select.having is not None else None)
        where = self.where()
        parts = []
        for active in sets:
            out: list[Any] = []
            for i, e in enumerate(plan.selects):
                at = next((j for j, g in enumerate(group) if g == e), None)
                if isinstance(e, GroupingExpr):
                    at = next(j for j, g in enumerate(group) if g == e.arg)
                    out.append(literal_column("0" if at in active else "1").label(f"c{i}"))
                elif at is not None and at not in active:
                    out.append(null().label(f"c{i}"))
                else:
                    out.append(self.expr(e).label(f"c{i}"))
            for j in range(n):
                out.append((columns[j] if j in active else null()).label(f"k{j}"))
                out.append(literal_column("0" if j in active else "1").label(f"g{j}"))
            part = select(*out).select_from(self.from_clause()).where(*where)
            if active:
                part = part.group_by(*(columns[j] for j in sorted(active)))
            if having is not None:
                part = part.having(having)
            parts.append(part)
        rows = union_all(*parts).subquery("grouping_sets")
        order = []
        for item in plan.select.order_by:
            expr = plan.exprs[item.field]
            at = next((j for j, g in enumerate(group) if g is expr or g == expr), None)
            column = (rows.c[f"k{at}"] if at is not None else
                      rows.c[f"c{next(i for i, e in enumerate(plan.selects) if e == expr)}"])
            ordered = column.desc() if item.descending else column.asc()
            order.append(ordered.nulls_last() if item.nulls == "LAST" else ordered.nulls_first())
        if not order:
            for j in range(n):
                order += [rows.c[f"g{j}"].asc(), rows.c[f"k{j}"].asc()]
        stmt = select(*(rows.c[f"c{i}"] for i in range(len(plan.selects)))).order_by(*order)
        if limit is not None:
            stmt = stmt.limit(limit)
        return stmt.offset(offset) if offset else stmt

    def count(self) -> Select[Any]:
        where = self.where()
        return select(func.count()).select_from(self.from_clause()).where(*where)

    def where(self) -> list[Col]:
        clauses = [self.root_source.scope(self.root, self.plan.org_id, self.plan.query_all)]
        if self.plan.owner_scope is not None:  # the caller's own rows only
            owner, value = self.plan.owner_scope
            clauses.append(self.root_source.column(self.root, owner) == value)
        if self.plan.select.where is not None:
            clauses.append(self.condition(self.plan.select.where))
        return clauses

    def from_clause(self) -> FromClause:
        current: FromClause = self.root
        if self.lead is not None:  # a table read first, then the root's rows it names
            current = LeadingJoin(self.lead[0], self.root, self.lead[1])
        for alias, on in self.join_order:
            current = current.outerjoin(alias, on)
        return current

    def order_keys(self) -> list[tuple[Col, bool, bool | None]]:
        """(sorted expression, descending, nulls last) per ORDER BY item; record queries end
        with the Id (never null: ``None``), so no two rows share a key."""
        out: list[tuple[Col, bool, bool | None]] = []
        for item in self.plan.select.order_by:
            column = self.operand(item.field)
            expr = self.plan.exprs.get(item.field)
            if isinstance(expr, Path) and expr.field.type in CASE_INSENSITIVE:
                column = func.lower(column)
            # SOQL: "By default, null values are sorted first."
            out.append((column, item.descending, item.nulls == "LAST"))
        if not self.plan.aggregate:
            out.append((self.root_source.id(self.root), False, None))
        return out

    def order_by(self) -> list[Col]:
        out: list[Col] = []
        for column, descending, nulls_last in self.order_keys():
            ordered = column.desc() if descending else column.asc()
            if nulls_last is not None:
                ordered = ordered.nulls_last() if nulls_last else ordered.nulls_first()
            out.append(ordered)
        return out

    def after(self, key: Sequence[Any]) -> Col:
        """Rows that sort after ``key``: (k1 beyond v1) OR (k1 = v1 AND k2 beyond v2) OR …"""
        terms: list[Col] = []
        equal: list[Col] = []
        for (column, descending, nulls_last), value in zip(self.order_keys(), key, strict=True):
            terms.append(and_(*equal, _beyond(column, descending, bool(nulls_last), value)))
            equal.append(column.is_(None) if value is None else column == value)
        return or_(*terms)

    # -- expressions ---------------------------------------------------------------------

    def operand(self, node: Any) -> Col:
        return self.expr(self.plan.exprs[node])

    def expr(self, e: Expr) -> Col:
        if isinstance(e, Path):
            alias, source = self.alias_for(e)
            return source.column(alias, e.field)
        if isinstance(e, AggregateExpr):
            return self.aggregate(e)
        if isinstance(e, GroupingExpr):  # outside grouping sets nothing is rolled up
            return literal_column("0")
        return self.date_part(e)

    def aggregate(self, e: AggregateExpr) -> Col:
        if e.arg is None:
            return func.count()
        column = self.expr(e.arg)
        if e.func == "COUNT":
            return func.count(column)
        if e.func == "COUNT_DISTINCT":
            return func.count(column.distinct())
        return getattr(func, e.func.lower())(column)  # type: ignore[no-any-return]

    def date_part(self, e: DatePart) -> Col:
        text = self.expr(e.arg)
        part = {"CALENDAR_YEAR": (1, 4), "CALENDAR_MONTH": (6, 2), "DAY_IN_MONTH": (9, 2),
                "DAY_ONLY": (1, 10), "HOUR_IN_DAY": (12, 2), "CALENDAR_QUARTER": (6, 2)}
        start, length = part[e.func]
        # Inline the positions: PostgreSQL matches a GROUP BY expression to the select list
        # textually, and two sets of bind parameters ($1 vs $4) would not match.
        piece = func.substr(text, literal_column(str(start)), literal_column(str(length)))
        if e.func == "CALENDAR_QUARTER":
            return (cast(piece, Integer) + literal_column("2")) // literal_column("3")
        return piece if e.func == "DAY_ONLY" else cast(piece, Integer)

    def alias_for(self, path: Path) -> tuple[FromClause, Source]:
        alias, source = self.root, self.root_source
        for depth in range(1, len(path.hops) + 1):
            key = path.join_key[:depth]
            if key not in self.joins:
                hop = path.hops[depth - 1]
                target = self.sources(hop.target)
                joined = target.alias(f"{self.prefix}t{len(self.joins) + 1}")
                on = and_(target.id(joined) == source.column(alias, hop.lookup),
                          target.scope(joined, self.plan.org_id, True))
                if hop.scope is not None:  # only parents the caller may see
                    on = and_(on, target.column(joined, hop.scope[0]) == hop.scope[1])
                self.joins[key] = (joined, target)
                self.join_order.append((joined, on))
            alias, source = self.joins[key]
        return alias, source

    def source_of(self, path: Path) -> Source:
        return self.alias_for(path)[1]

    # -- conditions ----------------------------------------------------------------------

    def condition(self, node: ast.Condition) -> Col:
        if isinstance(node, ast.And):
            return and_(*(self.condition(i) for i in node.items))
        if isinstance(node, ast.Or):
            return or_(*(self.condition(i) for i in node.items))
        if isinstance(node, ast.Not):
            # SOQL's NOT keeps rows whose inner test is unknown (null field): coalesce first.
            return not_(func.coalesce(self.condition(node.item), false()))
        if isinstance(node, ast.Comparison):
            return self.comparison(node)
        if isinstance(node, ast.InList):
            return self.in_list(node)
        if isinstance(node, ast.SemiJoin):
            return self.semi_join(node)
        return self.includes(node)

    def _lhs(self, node: Any) -> tuple[Col, bool, Path | None]:
        """The compared column (not yet folded) and whether text comparison ignores case."""
        expr = self.plan.exprs[node]
        column = self.expr(expr)
        if isinstance(expr, Path):
            return column, expr.field.type in CASE_INSENSITIVE, expr
        return column, False, None

    def _value(self, path: Path | None, value: Any) -> Any:
        return self.source_of(path).to_db(path.field, value) if path is not None else value

    def comparison(self, node: ast.Comparison) -> Col:
        lhs, insensitive, path = self._lhs(node.field)
        if isinstance(node.value, ast.NullLit):
            return lhs.is_(None) if node.op == "=" else lhs.is_not(None)
        raw = self.plan.values[node.value]
        if isinstance(node.value, ast.DateLiteral):
            start, end = (self._value(path, v) for v in raw)
            return self._range(lhs, node.op, start, end)
        value = self._value(path, raw)
        if insensitive and isinstance(value, str):
            fold = folding([value])
            lhs, value = fold(lhs), fold(literal(value))
        op = node.op
        if op == "LIKE":
            return lhs.like(value, escape="\\")
        if op == "=":
            return lhs == value
        if op == "!=":
            return or_(lhs != value, lhs.is_(None))
        return {"<": lhs < value, "<=": lhs <= value, ">": lhs > value, ">=": lhs >= value}[op]

    @staticmethod
    def _range(lhs: Col, op: str, start: Any, end: Any) -> Col:
        """Date literals name a range: ``=`` inside it, ``<`` before it, ``>`` after it."""
        inside = and_(lhs >= start, lhs < end)
        return {"=": inside, "!=": or_(not_(inside), lhs.is_(None)), "<": lhs < start,
                "<=": lhs < end, ">": lhs >= end, ">=": lhs >= start}[op]

    def in_list(self, node: ast.InList) -> Col:
        lhs, insensitive, path = self._lhs(node.field)
        values = [self._value(path, self.plan.values[v])
                  for v in node.values if not isinstance(v, ast.NullLit)]
        if insensitive:
            fold = folding([v for v in values if isinstance(v, str)])
            lhs = fold(lhs)
            values = [fold(literal(v)) if isinstance(v, str) else v for v in values]
        has_null = any(isinstance(v, ast.NullLit) for v in node.values)
        test: Col = lhs.in_(values)
        if has_null:
            test = or_(test, lhs.is_(None))
        if not node.negated:
            return test
        return and_(or_(not_(lhs.in_(values)), lhs.is_(None)), *(
            [lhs.is_not(None)] if has_null else []))

    def semi_join(self, node: ast.SemiJoin) -> Col:
        lhs, _, _ = self._lhs(node.field)
        inner_plan = self.plan.semi_joins[node]
        inner = Compiler(inner_plan, self.sources, self.depth + 1)
        column = inner.expr(inner_plan.selects[0])
        subquery = select(column).select_from(inner.from_clause()).where(
            *inner.where(), column.is_not(None))
        if node.negated:
            return or_(lhs.not_in(subquery), lhs.is_(None))
        return lhs.in_(subquery)

    def includes(self, node: ast.Includes) -> Col:
        """Multi-select picklists: ``;`` in one string is AND, the strings are OR-ed."""
        column = self.operand(node.field)
        fold = folding([value.value for value in node.values])
        padded = literal(";") + fold(func.coalesce(column, "")) + literal(";")
        alternatives = []
        for value in node.values:
            terms = [t.strip() for t in value.value.split(";") if t.strip()]
            alternatives.append(and_(*(padded.like(fold(literal(f"%;{_escape(term)};%")),
                                                   escape="\\") for term in terms)))
        test = or_(*alternatives)
        return not_(test) if node.negated else test


class LeadingJoin(Join):
    """An inner join whose left side SQLite must read first (``CROSS JOIN``: its planner
    never reorders that): a full-text index driving the record table, so a LIMIT stops the
    search early instead of matching the index once per record row."""

    inherit_cache = True


@compiles(LeadingJoin, "sqlite")
def _sqlite_leading_join(element: LeadingJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left, right = compiler.process(element.left, **kw), compiler.process(element.right, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(element.onclause, **kw)}"


@compiles(LeadingJoin)
def _leading_join(element: LeadingJoin, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_join(element, **kw))


class unicode_lower(GenericFunction[str]):  # noqa: N801 - SQL function names are lower case
    """``lower()`` that folds every letter: ``lf_lower`` on SQLite, ``lower`` elsewhere."""

    type = String()
    name = "unicode_lower"
    inherit_cache = True


@compiles(unicode_lower, "sqlite")
def _sqlite_unicode_lower(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lf_lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower)
def _unicode_lower(element: unicode_lower, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


def folding(texts: Sequence[str]) -> Callable[[Any], Col]:
    """How to fold case for comparing with ``texts``: the indexed ``lower()`` while they are
    ASCII, else ``unicode_lower``."""
    if all(text.isascii() for text in texts):
        return func.lower
    return unicode_lower


def _beyond(column: Col, descending: bool, nulls_last: bool, value: Any) -> Col:
    """``column`` sorts strictly after ``value`` in this direction and null placement."""
    if value is None:  # nulls first: every value follows; nulls last: nothing does
        return false() if nulls_last else column.is_not(None)
    beyond = column < value if descending else column > value
    return or_(beyond, column.is_(None)) if nulls_last else beyond


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
