"""Recursive-descent SOQL parser: ``parse(text) -> Select``.

One method per grammar rule (SOQL & SOSL Reference, "SOQL SELECT Syntax")::

    statement   := select <EOF>
    select      := SELECT selectList FROM objectType [alias] [USING SCOPE scope]
                   [WHERE condition] [WITH word] [GROUP BY groupList [HAVING condition]]
                   [ORDER BY orderItem, ...] [LIMIT n] [OFFSET n] [FOR VIEW|REFERENCE|UPDATE]...
    selectList  := COUNT() | selectItem, ...
    selectItem  := fieldPath [alias] | call [alias] | FIELDS(ALL|STANDARD|CUSTOM) | (childSelect)
    call        := AGGREGATE(fieldPath) | COUNT() | FUNCTION(fieldPath | call)   -- 2 levels max
    fieldPath   := ident (. ident)*                  -- at most 5 relationship hops

Conditions and values are in :mod:`localforce.soql.conditions`.  Subqueries use
the same ``select`` rule with fewer clauses: a child subquery has no GROUP BY,
HAVING or FOR; a semi-join subquery only ``SELECT field FROM object [WHERE]``.
Rules that need metadata (unknown fields, types) belong to the compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict, TypeVar

from localforce.soql import ast
from localforce.soql.conditions import ConditionRules, check_semi_joins
from localforce.soql.cursor import NOT_ALIASES, Cursor
from localforce.soql.errors import MAX_QUERY_LENGTH, MalformedQuery, NumberOutsideValidRange

__all__ = ["AGGREGATES", "FUNCTIONS", "MAX_OFFSET", "Parser", "parse"]

AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})

#: Select/filter functions, upper-case name -> canonical spelling.
FUNCTIONS = {
    name.upper(): name
    for name in (
        "toLabel", "FORMAT", "convertCurrency", "convertTimezone", "GROUPING",
        "CALENDAR_MONTH", "CALENDAR_QUARTER", "CALENDAR_YEAR", "DAY_IN_MONTH",
        "DAY_IN_WEEK", "DAY_IN_YEAR", "DAY_ONLY", "FISCAL_MONTH", "FISCAL_QUARTER",
        "FISCAL_YEAR", "HOUR_IN_DAY", "WEEK_IN_MONTH", "WEEK_IN_YEAR",
    )
}  # fmt: skip

T = TypeVar("T")


class _Clauses(TypedDict, total=False):
    """The optional ``Select`` fields, filled in clause by clause."""

    using_scope: str
    where: ast.Condition
    with_: str
    group_by: tuple[ast.Operand, ...]
    group_by_kind: str
    having: ast.Condition
    order_by: tuple[ast.OrderItem, ...]
    limit: int
    offset: int
    for_: tuple[str, ...]


FIELDS_KINDS = ("ALL", "STANDARD", "CUSTOM")
SCOPES_WITH = ("SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE")
MAX_OFFSET = 2000
MAX_HOPS = 5
FIELDS_MAX_LIMIT = 200


def parse(text: str) -> ast.Select:
    """Parse one SOQL statement; raise :class:`~localforce.soql.errors.SoqlError`."""
    if len(text) > MAX_QUERY_LENGTH:
        # Limit from the SOQL reference; the wording is ours (not recorded).
        raise MalformedQuery(f"SOQL statements cannot exceed {MAX_QUERY_LENGTH:,} characters")
    return Parser(text).statement()


class Parser(ConditionRules):
    """Grammar rules for one statement.  ``kind`` is ``top``, ``child`` or ``semi``."""

    def __init__(self, text: str) -> None:
        self.cursor = Cursor(text)
        self.aliases: list[str | None] = []
        self.semi_join_depth = 0

    def statement(self) -> ast.Select:
        select = self.select("top")
        if self.cursor.peek().kind != "EOF":
            self.cursor.unexpected()
        return select

    def select(self, kind: str) -> ast.Select:
        c = self.cursor
        start = c.expect_word("SELECT")
        self.aliases.append(self._prescan_alias())
        try:
            fields = self.select_list(kind)
            c.expect_word("FROM")
            sobject_token = c.peek()
            sobject = self.object_name(kind)
            alias = c.advance().text if c.at_alias() else None
            clauses = self.clauses(kind)
        finally:
            self.aliases.pop()
        select = ast.Select(fields, sobject, start.pos, sobject_token.pos, alias=alias, **clauses)
        self._check_select(select)
        return select

    def clauses(self, kind: str) -> _Clauses:
        """Everything after ``FROM object [alias]``, in Salesforce's fixed order."""
        c = self.cursor
        out: _Clauses = {}
        if c.accept_word("USING"):
            c.expect_word("SCOPE")
            out["using_scope"] = c.expect_ident().text
        if c.accept_word("WHERE"):
            where = self.condition()
            check_semi_joins(where)
            out["where"] = where
        if kind == "semi":
            return out
        if c.accept_word("WITH"):
            out["with_"] = c.expect_word(*SCOPES_WITH).text.upper()
        if kind == "top" and c.accept_word("GROUP"):
            out.update(self.group_by())
        if c.accept_word("ORDER"):
            c.expect_word("BY")
            out["order_by"] = self.comma_list(self.order_item)
        if c.accept_word("LIMIT"):
            out["limit"] = self.integer()
        if c.accept_word("OFFSET"):
            out["offset"] = self.offset()
        if kind == "top":
            out["for_"] = self.for_clause()
        return out

    # --- select list -------------------------------------------------------

    def select_list(self, kind: str) -> tuple[ast.SelectItem, ...]:
        c = self.cursor
        if c.at_word("COUNT") and c.peek(1).text == "(" and c.peek(2).text == ")":
            # COUNT() must be the only element in the SELECT list; the grammar
            # only accepts it whole, so a following item is an unexpected ','.
            token = c.advance()
            c.advance()
            c.advance()
            return (ast.Aggregate("COUNT", None, token.pos),)
        return self.comma_list(lambda: self.select_item(kind))

    def select_item(self, kind: str) -> ast.SelectItem:
        c = self.cursor
        if kind != "semi" and c.at_punct("("):
            start = c.advance()
            child = self.select("child")
            c.expect_punct(")")
            return ast.SubQuery(child, start.pos)
        if c.at_word("FIELDS") and c.peek(1).text == "(":
            return self.fields_macro()
        if kind != "semi" and c.at_word("TYPEOF") and c.peek(1).kind == "IDENT" \
                and c.peek(2).is_word("WHEN"):
            return self.type_of()
        item = self.operand()
        alias = c.advance().text if c.at_alias() else None
        return item if alias is None else _with_alias(item, alias)

    def type_of(self) -> ast.TypeOf:
        """``TYPEOF rel (WHEN Type THEN fieldList)+ [ELSE fieldList] END``."""
        c = self.cursor
        start = c.advance()
        relationship = c.expect_ident().text
        whens = []
        while c.accept_word("WHEN"):
            sobject = c.expect_ident()
            c.expect_word("THEN")
            whens.append((sobject.text, sobject.pos, self.comma_list(self.field_path)))
        else_ = self.comma_list(self.field_path) if c.accept_word("ELSE") else ()
        c.expect_word("END")
        return ast.TypeOf(relationship, tuple(whens), else_, start.pos)

    def fields_macro(self) -> ast.FieldsMacro:
        c = self.cursor
        start = c.advance()
        c.expect_punct("(")
        kind = c.expect_word(*FIELDS_KINDS).text.upper()
        c.expect_punct(")")
        return ast.FieldsMacro(kind, start.pos)

    # --- operands: field paths and calls ----------------------------------

    def operand(self) -> ast.Operand:
        c = self.cursor
        if c.peek().kind == "IDENT" and c.peek(1).text == "(":
            return self.call(depth=1)
        return self.field_path()

    def call(self, depth: int) -> ast.Aggregate | ast.FunctionCall:
        c = self.cursor
        name = c.advance()
        func = name.text.upper()
        if func not in AGGREGATES and func not in FUNCTIONS:
            c.unexpected(c.peek())
        c.expect_punct("(")
        if c.at_punct(")"):
            # COUNT() is only valid as the whole select list (see select_list).
            c.unexpected()
        arg = self.call_argument(depth, func in AGGREGATES)
        c.expect_punct(")")
        if func in AGGREGATES:
            assert not isinstance(arg, ast.Aggregate)
            return ast.Aggregate(func, arg, name.pos)
        return ast.FunctionCall(FUNCTIONS[func], arg, name.pos)

    def call_argument(
        self, depth: int, in_aggregate: bool
    ) -> ast.FieldPath | ast.Aggregate | ast.FunctionCall:
        c = self.cursor
        if c.peek().kind == "IDENT" and c.peek(1).text == "(":
            if depth >= 2:
                # Summer '24 release notes: more than two nested functions give
                # "unexpected token: '('".
                c.unexpected(c.peek(1))
            if in_aggregate and c.peek().text.upper() in AGGREGATES:
                c.unexpected(c.peek())
            return self.call(depth + 1)
        return self.field_path()

    def field_path(self) -> ast.FieldPath:
        c = self.cursor
        tokens = [c.expect_ident(allow_group=c.peek(1).text == ".")]
        while c.accept_punct("."):
            tokens.append(c.expect_ident())
        start = tokens[0].pos
        alias = self.aliases[-1] if self.aliases else None
        if len(tokens) > 1 and alias is not None and tokens[0].text.lower() == alias.lower():
            tokens = tokens[1:]
        if len(tokens) - 1 > MAX_HOPS:
            # Limit from the SOQL reference ("Relationship Query Limits");
            # wording not recorded from a live org.
            raise MalformedQuery(
                "SOQL statements cannot query more than 5 levels of child-to-parent relationships",
                start.row,
                start.column,
                query=c.text,
            )
        return ast.FieldPath(tuple(t.text for t in tokens), start, tuple(t.pos for t in tokens))

    def object_name(self, kind: str) -> str:
        """The FROM object; a child subquery may qualify it with the outer alias."""
        c = self.cursor
        if kind != "child":
            return c.expect_ident(allow_group=True).text
        outer = self.aliases[-2] if len(self.aliases) > 1 else None
        first = c.expect_ident()
        if c.at_punct(".") and outer is not None and first.text.lower() == outer.lower():
            c.advance()
            return c.expect_ident().text
        return first.text

    # --- trailing clauses --------------------------------------------------

    def group_by(self) -> _Clauses:
        c = self.cursor
        c.expect_word("BY")
        out: _Clauses = {}
        if c.at_word("ROLLUP", "CUBE") and c.peek(1).text == "(":
            out["group_by_kind"] = c.advance().text.upper()
            c.expect_punct("(")
            out["group_by"] = self.comma_list(self.operand)
            c.expect_punct(")")
        else:
            out["group_by"] = self.comma_list(self.operand)
        if c.accept_word("HAVING"):
            out["having"] = self.condition()
        return out

    def order_item(self) -> ast.OrderItem:
        c = self.cursor
        start = c.peek()
        field = self.operand()
        direction = c.accept_word("ASC", "DESC")
        nulls = None
        if c.accept_word("NULLS"):
            nulls = c.expect_word("FIRST", "LAST").text.upper()
        descending = direction is not None and direction.text.upper() == "DESC"
        return ast.OrderItem(field, descending, nulls, start.pos)

    def integer(self) -> int:
        c = self.cursor
        token = c.peek()
        if token.kind != "NUMBER" or not token.text.isdigit():
            c.unexpected()
        c.advance()
        return int(token.text)

    def offset(self) -> int:
        value = self.integer()
        if value > MAX_OFFSET:
            # Recorded: {"message": "Maximum SOQL offset allowed is 2000",
            #            "errorCode": "NUMBER_OUTSIDE_VALID_RANGE"}
            raise NumberOutsideValidRange(f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        return value

    def for_clause(self) -> tuple[str, ...]:
        c = self.cursor
        words: list[str] = []
        while c.accept_word("FOR"):
            words.append(c.expect_word("VIEW", "REFERENCE", "UPDATE").text.upper())
        return tuple(words)

    # --- helpers -----------------------------------------------------------

    def comma_list(self, rule: Callable[[], T]) -> tuple[T, ...]:
        items = [rule()]
        while self.cursor.accept_punct(","):
            items.append(rule())
        return tuple(items)

    def _prescan_alias(self) -> str | None:
        """The FROM alias of the select starting here, so paths can drop it.

        Scans ahead (without consuming) to this select's own ``FROM`` at paren
        depth 0, skips the object name, and returns the alias if one follows.
        """
        c = self.cursor
        ahead, depth = 0, 0
        while c.peek(ahead).kind != "EOF":
            token = c.peek(ahead)
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
                if depth < 0:
                    return None
            elif depth == 0 and token.is_word("FROM"):
                break
            ahead += 1
        ahead += 2
        while c.peek(ahead).text == "." and c.peek(ahead + 1).kind == "IDENT":
            ahead += 2
        candidate = c.peek(ahead)
        if candidate.kind == "IDENT" and candidate.text.upper() not in NOT_ALIASES:
            return candidate.text
        return None

    def _check_select(self, select: ast.Select) -> None:
        """Purely syntactic rules Salesforce checks after parsing a select."""
        needs_limit = any(
            isinstance(item, ast.FieldsMacro) and item.kind in ("ALL", "CUSTOM")
            for item in select.fields
        )
        if needs_limit and (select.limit is None or select.limit > FIELDS_MAX_LIMIT):
            # Recorded: MALFORMED_QUERY "The SOQL FIELDS function must have a
            # LIMIT of at most 200" (FIELDS(STANDARD) is exempt).
            raise MalformedQuery(
                f"The SOQL FIELDS function must have a LIMIT of at most {FIELDS_MAX_LIMIT}"
            )


def _with_alias(item: ast.Operand, alias: str) -> ast.Operand:
    if isinstance(item, ast.FieldPath):
        return ast.FieldPath(item.parts, item.pos, item.part_pos, alias)
    if isinstance(item, ast.Aggregate):
        return ast.Aggregate(item.func, item.arg, item.pos, alias)
    return ast.FunctionCall(item.func, item.arg, item.pos, alias)
