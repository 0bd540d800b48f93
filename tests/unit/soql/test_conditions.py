"""WHERE / HAVING: operators, boolean structure, values, semi-joins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from localforce.soql import MalformedQuery, parse
from localforce.soql.ast import (
    Aggregate,
    And,
    BoolLit,
    Comparison,
    Condition,
    DateLit,
    DateLiteral,
    DateTimeLit,
    FieldPath,
    FunctionCall,
    Includes,
    InList,
    Not,
    NullLit,
    NumberLit,
    Or,
    Pos,
    SemiJoin,
    StringLit,
    Value,
)
from localforce.soql.dates import DATE_LITERALS, PARAMETERISED_DATE_LITERALS

PREFIX = "SELECT Id FROM Account WHERE "


def where(condition: str) -> Condition:
    select = parse(PREFIX + condition)
    assert select.where is not None
    return select.where


def value_of(literal: str) -> Value:
    condition = where(f"X = {literal}")
    assert isinstance(condition, Comparison)
    return condition.value


def shape(node: Condition) -> object:
    """The boolean skeleton with leaves named by their field."""
    if isinstance(node, And):
        return ("AND", *[shape(item) for item in node.items])
    if isinstance(node, Or):
        return ("OR", *[shape(item) for item in node.items])
    if isinstance(node, Not):
        return ("NOT", shape(node.item))
    assert isinstance(node.field, FieldPath)
    return node.field.name


def P(offset: int) -> Pos:
    at = len(PREFIX) + offset
    return Pos(at, 1, at + 1)


def F(offset: int, name: str) -> FieldPath:
    return FieldPath((name,), P(offset), (P(offset),))


# --- operators -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "canonical"),
    [
        ("=", "="),
        ("!=", "!="),
        ("<>", "!="),
        ("<", "<"),
        ("<=", "<="),
        (">", ">"),
        (">=", ">="),
        ("LIKE", "LIKE"),
        ("like", "LIKE"),
    ],
)
def test_comparison_operators(op: str, canonical: str) -> None:
    condition = where(f"Amount {op} 5")
    assert isinstance(condition, Comparison)
    assert condition.op == canonical
    assert condition.field == F(0, "Amount")


def test_comparison_without_spaces() -> None:
    assert where("Amount>=5") == Comparison(
        F(0, "Amount"), ">=", NumberLit(Decimal(5), "5", P(8)), P(0)
    )


def test_like_keeps_wildcards() -> None:
    condition = where(r"Name LIKE 'a\_b%'")
    assert isinstance(condition, Comparison)
    assert condition.value == StringLit("a_b%", P(10), (1,))
    assert isinstance(condition.value, StringLit)
    assert condition.value.like_pattern() == r"a\_b%"


def test_in_list() -> None:
    assert where("Name IN ('a', 'b')") == InList(
        F(0, "Name"), (StringLit("a", P(9)), StringLit("b", P(14))), False, P(0)
    )


def test_not_in_list_of_numbers_and_null() -> None:
    condition = where("Amount NOT IN (1, 2.5, null)")
    assert isinstance(condition, InList)
    assert condition.negated is True
    assert [type(v).__name__ for v in condition.values] == ["NumberLit", "NumberLit", "NullLit"]


def test_in_list_of_dates() -> None:
    condition = where("CloseDate in (2024-01-01, TODAY)")
    assert isinstance(condition, InList)
    assert condition.values == (
        DateLit(dt.date(2024, 1, 1), "2024-01-01", P(14)),
        DateLiteral("TODAY", None, P(26)),
    )


@pytest.mark.parametrize(("word", "negated"), [("INCLUDES", False), ("excludes", True)])
def test_includes_excludes(word: str, negated: bool) -> None:
    condition = where(f"Tags__c {word} ('a;b', 'c')")
    assert condition == Includes(
        F(0, "Tags__c"),
        (StringLit("a;b", P(len(word) + 10)), StringLit("c", P(len(word) + 17))),
        negated,
        P(0),
    )


def test_function_on_the_left() -> None:
    condition = where("CALENDAR_YEAR(CreatedDate) = 2024")
    assert condition == Comparison(
        FunctionCall("CALENDAR_YEAR", F(14, "CreatedDate"), P(0)),
        "=",
        NumberLit(Decimal(2024), "2024", P(29)),
        P(0),
    )


def test_having_on_aggregates() -> None:
    select = parse(
        "SELECT Name, COUNT(Id) FROM Account GROUP BY Name HAVING COUNT(Id) > 1 AND Name LIKE 'A%'"
    )
    assert select.having is not None
    assert isinstance(select.having, And)
    first = select.having.items[0]
    assert isinstance(first, Comparison)
    assert isinstance(first.field, Aggregate)
    assert first.field.func == "COUNT"


# --- boolean structure -----------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("A = 1", "A"),
        ("A = 1 AND B = 2 AND C = 3", ("AND", "A", "B", "C")),
        ("A = 1 or B = 2 OR C = 3", ("OR", "A", "B", "C")),
        ("(A = 1 AND B = 2) OR C = 3", ("OR", ("AND", "A", "B"), "C")),
        ("A = 1 AND (B = 2 OR C = 3)", ("AND", "A", ("OR", "B", "C"))),
        ("((A = 1))", "A"),
        ("NOT A = 1", ("NOT", "A")),
        ("NOT (A = 1 OR B = 2)", ("NOT", ("OR", "A", "B"))),
        ("NOT A = 1 AND B = 2", ("AND", ("NOT", "A"), "B")),
        ("A = 1 AND NOT B = 2", ("AND", "A", ("NOT", "B"))),
        ("(A = 1 AND B = 2) AND C = 3", ("AND", ("AND", "A", "B"), "C")),
        ("(A = 1 OR B = 2) AND (C = 3 OR D = 4)", ("AND", ("OR", "A", "B"), ("OR", "C", "D"))),
    ],
)
def test_boolean_structure(condition: str, expected: object) -> None:
    assert shape(where(condition)) == expected


def test_and_or_positions() -> None:
    condition = where("NOT A = 1 OR B = 2")
    assert isinstance(condition, Or)
    assert condition.pos == P(0)
    assert condition.items[0] == Not(
        Comparison(F(4, "A"), "=", NumberLit(Decimal(1), "1", P(8)), P(4)), P(0)
    )


@pytest.mark.parametrize(
    ("condition", "column", "token"),
    [
        ("A = 1 AND B = 2 OR C = 3", 45, "OR"),
        ("A = 1 OR B = 2 AND C = 3", 44, "AND"),
        ("(A = 1 OR B = 2) AND C = 3 OR D = 4", 56, "OR"),
    ],
)
def test_mixing_and_or_needs_parentheses(condition: str, column: int, token: str) -> None:
    # Summer '24 release notes: "... OR (...) AND ParentId = ..." -> unexpected token: 'AND'.
    with pytest.raises(MalformedQuery) as info:
        where(condition)
    assert info.value.detail == f"unexpected token: '{token}'"
    assert (info.value.row, info.value.column) == (1, column)


# --- values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'text'", StringLit("text", P(4))),
        ("42", NumberLit(Decimal(42), "42", P(4))),
        ("-42", NumberLit(Decimal(-42), "-42", P(4))),
        ("3.14", NumberLit(Decimal("3.14"), "3.14", P(4))),
        ("-0.5", NumberLit(Decimal("-0.5"), "-0.5", P(4))),
        ("true", BoolLit(True, P(4))),
        ("TRUE", BoolLit(True, P(4))),
        ("False", BoolLit(False, P(4))),
        ("null", NullLit(P(4))),
        ("NULL", NullLit(P(4))),
        ("2024-02-29", DateLit(dt.date(2024, 2, 29), "2024-02-29", P(4))),
        (
            "2005-10-08T01:02:03Z",
            DateTimeLit(
                dt.datetime(2005, 10, 8, 1, 2, 3, tzinfo=dt.UTC),
                "2005-10-08T01:02:03Z",
                P(4),
            ),
        ),
    ],
)
def test_values(literal: str, expected: Value) -> None:
    assert value_of(literal) == expected


def test_number_literal_keeps_text() -> None:
    value = value_of("1.50")
    assert isinstance(value, NumberLit)
    assert (value.value, value.text, value.is_integer) == (Decimal("1.50"), "1.50", False)
    integer = value_of("7")
    assert isinstance(integer, NumberLit)
    assert integer.is_integer


@pytest.mark.parametrize("name", sorted(DATE_LITERALS))
def test_date_literals(name: str) -> None:
    assert value_of(name.lower()) == DateLiteral(name, None, P(4))


@pytest.mark.parametrize("name", sorted(PARAMETERISED_DATE_LITERALS))
def test_parameterised_date_literals(name: str) -> None:
    assert value_of(f"{name}:7") == DateLiteral(name, 7, P(4))


def test_parameterised_date_literal_with_spaces() -> None:
    assert value_of("LAST_N_DAYS : 30") == DateLiteral("LAST_N_DAYS", 30, P(4))


@pytest.mark.parametrize(
    "literal", ["LAST_N_DAYS", "LAST_N_DAYS:", "LAST_N_DAYS:1.5", "LAST_N_DAYS:x"]
)
def test_parameterised_date_literal_needs_integer(literal: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        value_of(literal)
    assert info.value.detail.startswith("unexpected token: ")


def test_bind_variables_are_apex_only() -> None:
    with pytest.raises(MalformedQuery) as info:
        where("Name = :accountName")
    assert info.value.message == "Bind variables only allowed in Apex code"
    with pytest.raises(MalformedQuery):
        where("Id IN :ids")


@pytest.mark.parametrize("bad", ["Name = Bogus", "Name = (1)", "Name =", "Name IN ()"])
def test_bad_values(bad: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        where(bad)
    assert info.value.detail.startswith("unexpected token: '")


def test_includes_takes_strings_only() -> None:
    with pytest.raises(MalformedQuery) as info:
        where("Tags__c INCLUDES (1)")
    assert info.value.detail == "unexpected token: '1'"


# --- semi-joins and anti-joins -------------------------------------------------------


def test_two_semi_joins_anded() -> None:
    condition = where(
        "Id IN (SELECT AccountId FROM Contact WHERE LastName LIKE 'a%') "
        "AND Id NOT IN (SELECT AccountId FROM Opportunity WHERE IsClosed = false)"
    )
    assert isinstance(condition, And)
    first, second = condition.items
    assert isinstance(first, SemiJoin) and isinstance(second, SemiJoin)
    assert (first.negated, second.negated) == (False, True)
    assert (first.select.sobject, second.select.sobject) == ("Contact", "Opportunity")


def test_semi_join_with_other_conditions_and_reference_field() -> None:
    condition = where(
        "Name != null AND OwnerId IN (SELECT Id FROM User WHERE IsActive = true) "
        "AND (A = 1 OR B = 2)"
    )
    assert shape(condition) == ("AND", "Name", "OwnerId", ("OR", "A", "B"))


def test_semi_join_subquery_field_path() -> None:
    condition = where("Id IN (SELECT Account.Id FROM Contact)")
    assert isinstance(condition, SemiJoin)
    (field,) = condition.select.fields
    assert isinstance(field, FieldPath)
    assert field.parts == ("Account", "Id")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "Name = 'a' OR Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are not allowed with the 'OR' operator",
        ),
        (
            "(Id IN (SELECT AccountId FROM Contact) AND A = 1) OR B = 2",
            "Semi join sub-selects are not allowed with the 'OR' operator",
        ),
        (
            "A = 1 AND (B = 2 OR Id IN (SELECT AccountId FROM Contact))",
            "Semi join sub-selects are only allowed at the top level WHERE expressions "
            "and not in nested WHERE expressions.",
        ),
        (
            "NOT Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are only allowed at the top level WHERE expressions "
            "and not in nested WHERE expressions.",
        ),
        (
            "Id IN (SELECT AccountId FROM Contact) AND Id IN (SELECT AccountId FROM Case) "
            "AND Id IN (SELECT AccountId FROM Opportunity)",
            "Maximum 2 semi join sub-selects are allowed",
        ),
        (
            "Id IN (SELECT AccountId FROM Contact WHERE Id IN (SELECT WhoId FROM Task))",
            "Nesting of semi join sub-selects is not supported",
        ),
        (
            "Id IN (SELECT AccountId, Id FROM Contact)",
            "Semi join sub-selects must select exactly one field",
        ),
        (
            "Id IN (SELECT COUNT(AccountId) FROM Contact)",
            "Semi join sub-selects must select exactly one field",
        ),
    ],
)
def test_semi_join_rules(condition: str, message: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        where(condition)
    assert info.value.error_code == "MALFORMED_QUERY"
    assert info.value.message == message


@pytest.mark.parametrize(
    "clause", ["ORDER BY Id", "LIMIT 5", "OFFSET 1", "FOR UPDATE", "GROUP BY Id"]
)
def test_semi_join_subquery_is_restricted(clause: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        where(f"Id IN (SELECT AccountId FROM Contact {clause})")
    assert info.value.detail == f"unexpected token: '{clause.split()[0]}'"


def test_semi_join_needs_a_field_on_the_left() -> None:
    with pytest.raises(MalformedQuery) as info:
        where("CALENDAR_YEAR(CreatedDate) IN (SELECT Id FROM Contact)")
    assert info.value.detail == "unexpected token: 'SELECT'"
