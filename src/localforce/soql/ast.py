"""The SOQL syntax tree: frozen dataclasses, one per construct.

A parsed statement is a :class:`Select`::

    Select
      fields:     tuple[SelectItem, ...]
                  SelectItem = FieldPath | Aggregate | FunctionCall | FieldsMacro | SubQuery
                               | TypeOf
      sobject:    str                      object name as written ("account")
      alias:      str | None               FROM Account a
      using_scope, where, with_, group_by, group_by_kind, having,
      order_by:   tuple[OrderItem, ...]
      limit, offset: int | None
      for_:       tuple[str, ...]          ("VIEW",), ("REFERENCE",), ("UPDATE",) ...

    Condition = Comparison | InList | SemiJoin | Includes | And | Or | Not
    Operand   = FieldPath | Aggregate | FunctionCall     (left side of a condition,
                                                          GROUP BY / ORDER BY entries)
    Value     = StringLit | NumberLit | BoolLit | NullLit | DateLit | DateTimeLit
              | DateLiteral

Conventions a compiler can rely on:

* Identifiers keep the spelling of the source; keywords, function and
  aggregate names, operators and date literals are canonical (``COUNT``,
  ``toLabel``, ``!=`` for both ``!=`` and ``<>``, ``LIKE``, ``LAST_N_DAYS``).
* Field paths never include the FROM alias: ``SELECT a.Name FROM Account a``
  yields ``FieldPath(parts=("Name",))``.  ``parts[:-1]`` are relationship
  names, ``parts[-1]`` the field.
* ``And``/``Or`` hold two or more items; a parenthesised group of the same
  operator stays a nested node (so the tree mirrors the source parentheses).
* Every node has ``pos``: where its text starts (0-based ``offset``, 1-based
  ``row`` and ``column``), for errors such as INVALID_FIELD.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "Aggregate",
    "And",
    "BoolLit",
    "Comparison",
    "Condition",
    "DateLit",
    "DateLiteral",
    "DateTimeLit",
    "FieldPath",
    "FieldsMacro",
    "FunctionCall",
    "Includes",
    "InList",
    "Not",
    "NullLit",
    "NumberLit",
    "Operand",
    "Or",
    "OrderItem",
    "Pos",
    "Select",
    "SelectItem",
    "SemiJoin",
    "StringLit",
    "SubQuery",
    "Value",
]


@dataclass(frozen=True, slots=True)
class Pos:
    """A source position: 0-based ``offset``; 1-based ``row`` and ``column``."""

    offset: int
    row: int
    column: int


# --- select items and operands ---------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldPath:
    """``Name``, ``Account.Owner.Name``; ``part_pos[i]`` is where ``parts[i]`` starts.

    ``alias`` is set only for an aliased select item (``SELECT Name n ...
    GROUP BY Name``).
    """

    parts: tuple[str, ...]
    pos: Pos
    part_pos: tuple[Pos, ...] = ()
    alias: str | None = None

    @property
    def name(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``COUNT()``, ``COUNT(f)``, ``COUNT_DISTINCT(f)``, ``SUM|AVG|MIN|MAX(f)``.

    ``func`` is upper case; ``arg`` is ``None`` only for ``COUNT()``.
    """

    func: str
    arg: FieldPath | FunctionCall | None
    pos: Pos
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """``toLabel(f)``, ``FORMAT(f)``, ``convertCurrency(f)``, ``CALENDAR_YEAR(f)`` ...

    ``func`` is the canonical spelling (see ``parser.FUNCTIONS``).
    """

    func: str
    arg: FieldPath | Aggregate | FunctionCall
    pos: Pos
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class FieldsMacro:
    """``FIELDS(ALL)``, ``FIELDS(STANDARD)``, ``FIELDS(CUSTOM)``; ``kind`` upper case."""

    kind: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class TypeOf:
    """``TYPEOF What WHEN Account THEN Phone, Name WHEN Opportunity THEN Amount ELSE Name
    END``: per type of a polymorphic relationship's record, the fields to return."""

    relationship: str
    whens: tuple[tuple[str, Pos, tuple[FieldPath, ...]], ...]
    else_: tuple[FieldPath, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class SubQuery:
    """A parent-to-child subquery in the select list; ``select.sobject`` is the
    child relationship name (``Contacts``)."""

    select: Select
    pos: Pos


# --- literals ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StringLit:
    """A quoted string with escapes resolved.

    ``value`` is the plain text (``\\%`` and ``\\_`` already turned into ``%``
    and ``_``).  ``escaped_wildcards`` lists the indexes in ``value`` of the
    ``%``/``_`` that were written escaped, i.e. that are literal in ``LIKE``.
    """

    value: str
    pos: Pos
    escaped_wildcards: tuple[int, ...] = ()

    def like_pattern(self, escape: str = "\\") -> str:
        """``value`` as a SQL ``LIKE`` pattern using ``escape`` as escape char."""
        out = []
        for index, char in enumerate(self.value):
            if char == escape or (char in "%_" and index in self.escaped_wildcards):
                out.append(escape)
            out.append(char)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class NumberLit:
    """``42``, ``-1.5``: exact ``value`` plus the ``text`` as written."""

    value: Decimal
    text: str
    pos: Pos

    @property
    def is_integer(self) -> bool:
        return "." not in self.text


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class NullLit:
    pos: Pos


@dataclass(frozen=True, slots=True)
class DateLit:
    """``2024-01-31`` (unquoted)."""

    value: dt.date
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class DateTimeLit:
    """``2024-01-31T10:00:00Z``; ``value`` is timezone-aware."""

    value: dt.datetime
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """``TODAY``, ``LAST_N_DAYS:30``; ``name`` upper case, ``n`` for the ``:n`` forms.

    See :func:`localforce.soql.dates.date_literal_range`.
    """

    name: str
    n: int | None
    pos: Pos


# --- conditions --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``; ``op`` is one of ``= != < <= > >= LIKE``."""

    field: Operand
    op: str
    value: Value
    pos: Pos


@dataclass(frozen=True, slots=True)
class InList:
    """``field [NOT] IN (v, ...)``."""

    field: Operand
    values: tuple[Value, ...]
    negated: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class SemiJoin:
    """``field IN (SELECT ...)`` (semi-join) or ``NOT IN`` (anti-join, ``negated``)."""

    field: FieldPath
    select: Select
    negated: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Includes:
    """``field INCLUDES ('a;b', 'c')``; ``negated`` means ``EXCLUDES``.

    Within one string ``;`` means AND; the strings are OR-ed.
    """

    field: FieldPath
    values: tuple[StringLit, ...]
    negated: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Condition, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Condition, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition
    pos: Pos


# --- the statement -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderItem:
    """``field [ASC|DESC] [NULLS FIRST|LAST]``; ``nulls`` is ``None`` when not written."""

    field: Operand
    descending: bool
    nulls: str | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Select:
    """One SELECT statement (top level, child subquery or semi-join subquery).

    ``group_by_kind`` is ``None`` for plain ``GROUP BY``, else ``"ROLLUP"`` or
    ``"CUBE"``.  ``with_`` holds the ``WITH`` keyword (``SECURITY_ENFORCED``,
    ``USER_MODE``, ``SYSTEM_MODE``), upper case.
    """

    fields: tuple[SelectItem, ...]
    sobject: str
    pos: Pos
    sobject_pos: Pos
    alias: str | None = None
    using_scope: str | None = None
    where: Condition | None = None
    with_: str | None = None
    group_by: tuple[Operand, ...] = ()
    group_by_kind: str | None = None
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    for_: tuple[str, ...] = field(default=())


Operand = FieldPath | Aggregate | FunctionCall
SelectItem = FieldPath | Aggregate | FunctionCall | FieldsMacro | SubQuery | TypeOf
Value = StringLit | NumberLit | BoolLit | NullLit | DateLit | DateTimeLit | DateLiteral
Condition = Comparison | InList | SemiJoin | Includes | And | Or | Not
