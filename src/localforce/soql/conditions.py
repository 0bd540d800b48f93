"""WHERE/HAVING grammar rules, literal values and the semi-join rules.

::

    condition  := unary ((AND unary)* | (OR unary)*)   -- mixing AND/OR needs parentheses
    unary      := NOT unary | primary
    primary    := ( condition ) | fieldExpr
    fieldExpr  := operand op value
                | operand [NOT] IN ( value, ... )
                | fieldPath [NOT] IN ( SELECT field FROM object [WHERE condition] )
                | fieldPath INCLUDES|EXCLUDES ( 'string', ... )
    op         := = | != | <> | < | <= | > | >= | LIKE
    value      := 'string' | number | TRUE | FALSE | NULL | date | datetime
                | DATE_LITERAL | DATE_LITERAL:n

Salesforce rejects ``a AND b OR c`` with ``unexpected token: 'OR'`` at the
operator that changes (Summer '24 release notes), and ``:bind`` variables with
"Bind variables only allowed in Apex code".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from localforce.soql import ast
from localforce.soql.dates import DATE_LITERALS, PARAMETERISED_DATE_LITERALS
from localforce.soql.errors import MalformedQuery, QueryTooComplicated

if TYPE_CHECKING:
    from localforce.soql.cursor import Cursor
    from localforce.soql.lexer import Token

__all__ = ["COMPARISON_OPS", "ConditionRules", "check_semi_joins"]

COMPARISON_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
MAX_SEMI_JOINS = 2
#: A currency literal: an ISO 4217 code glued to an amount (``USD5000``).
_CURRENCY = re.compile(r"[A-Z]{3}\d+")
#: Bounds that keep a statement inside what the parser's recursion and the databases'
#: expression depth take (SQLite's is 1,000): beyond them, QUERY_TOO_COMPLICATED.
MAX_NESTING = 100
MAX_TERMS = 500

# Salesforce's texts for semi-join misuse (MALFORMED_QUERY), as quoted in
# client code and vendor support pages.
SEMI_JOIN_OR = "Semi join sub-selects are not allowed with the 'OR' operator"
SEMI_JOIN_NESTED_WHERE = (
    "Semi join sub-selects are only allowed at the top level WHERE expressions "
    "and not in nested WHERE expressions."
)
SEMI_JOIN_NESTING = "Nesting of semi join sub-selects is not supported"
SEMI_JOIN_MAXIMUM = f"Maximum {MAX_SEMI_JOINS} semi join sub-selects are allowed"
# Not recorded from a live org; our wording.
SEMI_JOIN_ONE_FIELD = "Semi join sub-selects must select exactly one field"


class ConditionRules:
    """Mixed into :class:`~localforce.soql.parser.Parser`."""

    cursor: Cursor
    semi_join_depth: int
    nesting: int = 0  # parentheses open around the condition being parsed
    terms: int = 0  # AND/OR operands in the statement

    def operand(self) -> ast.Operand:
        raise NotImplementedError  # pragma: no cover

    def select(self, kind: str) -> ast.Select:
        raise NotImplementedError  # pragma: no cover

    def condition(self) -> ast.Condition:
        c = self.cursor
        first = self.unary()
        items = [first]
        self.terms += 1
        operator = None
        while c.at_word("AND", "OR"):
            token = c.peek()
            word = token.text.upper()
            if operator is not None and word != operator:
                c.unexpected(token)
            operator = word
            c.advance()
            items.append(self.unary())
            self.terms += 1
            if self.terms > MAX_TERMS:
                raise QueryTooComplicated()
        if operator == "AND":
            return ast.And(tuple(items), first.pos)
        if operator == "OR":
            return ast.Or(tuple(items), first.pos)
        return first

    def unary(self) -> ast.Condition:
        token = self.cursor.accept_word("NOT")
        if token is not None:
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise QueryTooComplicated()
            inner = ast.Not(self.unary(), token.pos)
            self.nesting -= 1
            return inner
        return self.primary()

    def primary(self) -> ast.Condition:
        c = self.cursor
        if c.accept_punct("("):
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise QueryTooComplicated()
            inner = self.condition()
            c.expect_punct(")")
            self.nesting -= 1
            return inner
        return self.field_expr()

    def field_expr(self) -> ast.Condition:
        c = self.cursor
        field = self.operand()
        token = c.peek()
        if token.kind == "PUNCT" and token.text in COMPARISON_OPS:
            c.advance()
            return ast.Comparison(field, COMPARISON_OPS[token.text], self.value(), field.pos)
        if c.accept_word("LIKE"):
            return ast.Comparison(field, "LIKE", self.value(), field.pos)
        if c.accept_word("NOT"):
            c.expect_word("IN")
            return self.in_rhs(field, negated=True)
        if c.accept_word("IN"):
            return self.in_rhs(field, negated=False)
        if c.at_word("INCLUDES", "EXCLUDES"):
            return self.includes(field)
        c.unexpected()

    def in_rhs(self, field: ast.Operand, negated: bool) -> ast.Condition:
        c = self.cursor
        c.expect_punct("(")
        if c.at_word("SELECT"):
            return self.semi_join(field, negated)
        values = [self.value()]
        while c.accept_punct(","):
            values.append(self.value())
        c.expect_punct(")")
        return ast.InList(field, tuple(values), negated, field.pos)

    def semi_join(self, field: ast.Operand, negated: bool) -> ast.SemiJoin:
        c = self.cursor
        if not isinstance(field, ast.FieldPath):
            c.unexpected()
        if self.semi_join_depth:
            raise MalformedQuery(SEMI_JOIN_NESTING)
        self.semi_join_depth += 1
        try:
            select = self.select("semi")
        finally:
            self.semi_join_depth -= 1
        c.expect_punct(")")
        if len(select.fields) != 1 or not isinstance(select.fields[0], ast.FieldPath):
            raise MalformedQuery(SEMI_JOIN_ONE_FIELD)
        return ast.SemiJoin(field, select, negated, field.pos)

    def includes(self, field: ast.Operand) -> ast.Includes:
        c = self.cursor
        negated = c.advance().text.upper() == "EXCLUDES"
        if not isinstance(field, ast.FieldPath):
            c.unexpected()
        c.expect_punct("(")
        values = [self.string()]
        while c.accept_punct(","):
            values.append(self.string())
        c.expect_punct(")")
        return ast.Includes(field, tuple(values), negated, field.pos)

    # --- values --------------------------------------------------------------

    def string(self) -> ast.StringLit:
        c = self.cursor
        if c.peek().kind != "STRING":
            c.unexpected()
        value = c.advance().value
        assert isinstance(value, ast.StringLit)
        return value

    def value(self) -> ast.Value:
        c = self.cursor
        token = c.peek()
        if token.kind == "STRING":
            return self.string()
        if token.kind == "NUMBER":
            c.advance()
            return ast.NumberLit(token.value, token.text, token.pos)  # type: ignore[arg-type]
        if token.kind == "DATE":
            c.advance()
            return ast.DateLit(token.value, token.text, token.pos)  # type: ignore[arg-type]
        if token.kind == "DATETIME":
            c.advance()
            return ast.DateTimeLit(token.value, token.text, token.pos)  # type: ignore[arg-type]
        if token.text == ":" and c.peek(1).kind == "IDENT":
            raise MalformedQuery("Bind variables only allowed in Apex code")
        if token.kind == "IDENT":
            return self.word_value()
        c.unexpected()

    def word_value(self) -> ast.Value:
        c = self.cursor
        token = c.advance()
        word = token.text.upper()
        if word in ("TRUE", "FALSE"):
            return ast.BoolLit(word == "TRUE", token.pos)
        if word == "NULL":
            return ast.NullLit(token.pos)
        if word in DATE_LITERALS:
            return ast.DateLiteral(word, None, token.pos)
        if word in PARAMETERISED_DATE_LITERALS:
            c.expect_punct(":")
            number = c.peek()
            if number.kind != "NUMBER" or not number.text.isdigit():
                c.unexpected()
            c.advance()
            return ast.DateLiteral(word, int(number.text), token.pos)
        if _CURRENCY.fullmatch(word):
            return self.currency(token)
        c.unexpected(token)

    def currency(self, token: Token) -> ast.NumberLit:
        """``USD5000``, ``EUR1500.75``: a currency literal (ISO code + amount). The org has
        one currency, so the amount compares as written (SOQL & SOSL Reference, "Currency
        Literals")."""
        c = self.cursor
        digits = token.text[3:]
        after = c.peek()
        if (after.kind == "NUMBER" and after.text.startswith(".") and after.text[1:].isdigit()
                and after.pos.offset == token.end):  # the lexer cut "USD5.75" at the dot
            c.advance()
            digits += after.text
        return ast.NumberLit(Decimal(digits), digits, token.pos)


def check_semi_joins(where: ast.Condition) -> None:
    """Salesforce's structural limits on semi/anti-joins in one WHERE clause.

    At most two; never under OR; never under NOT or inside a nested
    expression that is OR-ed ("only allowed at the top level").
    """
    count = _walk(where, "top", is_root=True)
    if count > MAX_SEMI_JOINS:
        raise MalformedQuery(SEMI_JOIN_MAXIMUM)


def _walk(node: ast.Condition, context: str, is_root: bool) -> int:
    if isinstance(node, ast.SemiJoin):
        if context == "or":
            raise MalformedQuery(SEMI_JOIN_OR)
        if context == "nested":
            raise MalformedQuery(SEMI_JOIN_NESTED_WHERE)
        return 1
    if isinstance(node, ast.And):
        return sum(_walk(item, context, False) for item in node.items)
    if isinstance(node, ast.Or):
        inner = "or" if is_root or context == "or" else "nested"
        return sum(_walk(item, inner, False) for item in node.items)
    if isinstance(node, ast.Not):
        return _walk(node.item, "nested", False)
    return 0
