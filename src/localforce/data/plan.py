"""A SOQL statement resolved against the org's schema: what the SQL compiler compiles.

``data/query.py`` builds a :class:`QueryPlan` from the parsed :class:`~localforce.soql.ast.Select`
after every name, permission and literal has been checked; ``storage/sql/soql_to_sql.py`` turns
it into SQL. Literals are already converted to their stored form (``values``), so the compiler
needs no Salesforce typing rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from localforce.data.schema import FieldDef, ObjectDef
from localforce.soql import ast


@dataclass(frozen=True)
class Hop:
    """One parent step: the lookup field followed and the object it leads to."""

    lookup: FieldDef
    target: ObjectDef
    #: The parent rows the caller may see, when not all (``data/access.owner_scope``): the
    #: join finds no parent otherwise, so its fields read as null.
    scope: tuple[FieldDef, str] | None = None


@dataclass(frozen=True)
class Path:
    """A field reached from the query's object through zero or more parent hops."""

    hops: tuple[Hop, ...]
    field: FieldDef
    obj: ObjectDef

    @property
    def join_key(self) -> tuple[str, ...]:
        # The target too: TYPEOF joins one polymorphic lookup to several objects.
        return tuple(f"{h.lookup.key}>{h.target.key}" for h in self.hops)


@dataclass(frozen=True)
class TypeOfBranch:
    """One ``WHEN Type THEN fields`` (or the ``ELSE``, over the ``Name`` object): the select
    index of the joined parent's Id (None for ELSE) and of each field."""

    obj: ObjectDef
    id_index: int | None
    fields: tuple[tuple[FieldDef, int], ...]


@dataclass(frozen=True)
class TypeOfOutput:
    """A TYPEOF item: the relationship's key in the record, the select index of the lookup's
    own value, and the branch the parent's type picks."""

    name: str
    lookup_index: int
    whens: tuple[TypeOfBranch, ...]
    else_: TypeOfBranch | None


@dataclass(frozen=True)
class AggregateExpr:
    func: str  # COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX
    arg: Path | None  # None for COUNT()


@dataclass(frozen=True)
class DatePart:
    """``CALENDAR_YEAR(CreatedDate)`` and friends, evaluated on the stored ISO text."""

    func: str
    arg: Path


@dataclass(frozen=True)
class GroupingExpr:
    """``GROUPING(field)`` in a ``GROUP BY ROLLUP|CUBE`` query: 1 on the subtotal rows where
    ``arg`` (one of the grouped expressions) is rolled up, else 0."""

    arg: Path | DatePart


Expr = Path | AggregateExpr | DatePart | GroupingExpr


@dataclass
class ChildPlan:
    """A parent-to-child subquery: ``plan`` is on the child object, joined by ``lookup``."""

    name: str  # the relationship name as the schema spells it (``Contacts``)
    lookup: FieldDef
    plan: QueryPlan


@dataclass
class QueryPlan:
    select: ast.Select
    root: ObjectDef
    org_id: str
    now: dt.datetime
    query_all: bool = False
    #: Rows limited to those whose field holds this value: a user's own LoginHistory rows
    #: (``data/access.owner_scope``); ``None``: every row of the org.
    owner_scope: tuple[FieldDef, str] | None = None
    #: SQL select list, in order. For record queries ``selects[0]`` is the root Id.
    selects: list[Expr] = field(default_factory=list)
    #: Every FieldPath / Aggregate / FunctionCall node of this statement -> its expression.
    exprs: dict[Any, Expr] = field(default_factory=dict)
    #: Every literal node -> its stored value (date literals -> ``(start, end)`` pairs).
    values: dict[Any, Any] = field(default_factory=dict)
    semi_joins: dict[Any, QueryPlan] = field(default_factory=dict)
    children: list[ChildPlan] = field(default_factory=list)
    aggregate: bool = False
    count_only: bool = False
    #: Record queries: output layout, a list of (key, select index or ChildPlan, path).
    outputs: list[tuple[str, Any, Path | None]] = field(default_factory=list)
    #: What the shaping of rows (``data/query.py``) works out once per plan, by name.
    shaping: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def uses_date_literals(self) -> bool:
        """Whether a value depends on the day it was resolved (``TODAY``, ``LAST_N_DAYS:7``)."""
        return (any(isinstance(node, ast.DateLiteral) for node in self.values)
                or any(p.uses_date_literals() for p in self.semi_joins.values())
                or any(c.plan.uses_date_literals() for _, c, _ in self.outputs
                       if isinstance(c, ChildPlan)))
