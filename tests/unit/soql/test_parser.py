"""parse(): select lists, FROM, clauses, and exact trees for representative queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from localforce.soql import parse
from localforce.soql.ast import (
    Aggregate,
    And,
    Comparison,
    DateLiteral,
    FieldPath,
    FieldsMacro,
    FunctionCall,
    NullLit,
    NumberLit,
    OrderItem,
    Pos,
    Select,
    SemiJoin,
    StringLit,
    SubQuery,
)


def P(offset: int) -> Pos:
    """Position on a one-line query."""
    return Pos(offset, 1, offset + 1)


def F(offset: int, *parts: str, alias: str | None = None) -> FieldPath:
    """A dotted path written at ``offset`` on a one-line query (no FROM alias)."""
    positions, at = [], offset
    for part in parts:
        positions.append(P(at))
        at += len(part) + 1
    return FieldPath(tuple(parts), P(offset), tuple(positions), alias)


def names(select: Select) -> list[str]:
    out = []
    for item in select.fields:
        assert isinstance(item, FieldPath)
        out.append(item.name)
    return out


# --- exact trees -------------------------------------------------------------


def test_exact_tree_simple() -> None:
    assert parse("SELECT Id, Name FROM Account") == Select(
        fields=(F(7, "Id"), F(11, "Name")),
        sobject="Account",
        pos=P(0),
        sobject_pos=P(21),
    )


def test_exact_tree_full_statement() -> None:
    q = (
        "SELECT Name, Owner.Name FROM Account WHERE Industry = 'Tech' AND "
        "CreatedDate = LAST_N_DAYS:30 ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 20"
    )
    assert parse(q) == Select(
        fields=(F(7, "Name"), F(13, "Owner", "Name")),
        sobject="Account",
        pos=P(0),
        sobject_pos=P(29),
        where=And(
            (
                Comparison(F(43, "Industry"), "=", StringLit("Tech", P(54)), P(43)),
                Comparison(F(65, "CreatedDate"), "=", DateLiteral("LAST_N_DAYS", 30, P(79)), P(65)),
            ),
            P(43),
        ),
        order_by=(OrderItem(F(103, "Name"), True, "LAST", P(103)),),
        limit=10,
        offset=20,
    )


def test_exact_tree_child_subquery_and_aggregate_alias() -> None:
    q = "SELECT Id, (SELECT LastName FROM Contacts WHERE Email != null LIMIT 5) FROM Account"
    child = Select(
        fields=(F(19, "LastName"),),
        sobject="Contacts",
        pos=P(12),
        sobject_pos=P(33),
        where=Comparison(F(48, "Email"), "!=", NullLit(P(57)), P(48)),
        limit=5,
    )
    assert parse(q) == Select(
        fields=(F(7, "Id"), SubQuery(child, P(11))),
        sobject="Account",
        pos=P(0),
        sobject_pos=P(76),
    )


def test_exact_tree_group_by_having() -> None:
    q = "SELECT Industry, COUNT(Id) total FROM Account GROUP BY Industry HAVING COUNT(Id) > 1"
    assert parse(q) == Select(
        fields=(F(7, "Industry"), Aggregate("COUNT", F(23, "Id"), P(17), "total")),
        sobject="Account",
        pos=P(0),
        sobject_pos=P(38),
        group_by=(F(55, "Industry"),),
        having=Comparison(
            Aggregate("COUNT", F(77, "Id"), P(71)), ">", NumberLit(Decimal(1), "1", P(83)), P(71)
        ),
    )


def test_exact_tree_semi_join() -> None:
    q = "SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"
    inner = Select(fields=(F(47, "AccountId"),), sobject="Contact", pos=P(40), sobject_pos=P(62))
    assert parse(q).where == SemiJoin(F(29, "Id"), inner, True, P(29))


# --- select list -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT Id FROM Account", ["Id"]),
        ("select id, name from account", ["id", "name"]),
        ("SELECT Account.Name FROM Contact", ["Account.Name"]),
        ("SELECT Account.Owner.Name FROM Contact", ["Account.Owner.Name"]),
        ("SELECT A.B.C.D.E.Name FROM Contact", ["A.B.C.D.E.Name"]),
        ("SELECT Custom__r.Other__r.Field__c FROM Obj__c", ["Custom__r.Other__r.Field__c"]),
        ("SELECT\n  Id,\n  Name\nFROM\n  Account", ["Id", "Name"]),
    ],
)
def test_field_paths(query: str, expected: list[str]) -> None:
    assert names(parse(query)) == expected


def test_path_part_positions() -> None:
    (item,) = parse("SELECT Account.Owner.Name FROM Contact").fields
    assert item == F(7, "Account", "Owner", "Name")


def test_relationship_path_limit() -> None:
    with pytest.raises(Exception) as info:
        parse("SELECT A.B.C.D.E.F.Name FROM Contact")
    assert "5 levels" in str(info.value)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT a.Name FROM Account a", ["Name"]),
        ("SELECT A.Name, a.Owner.Name FROM Account a", ["Name", "Owner.Name"]),
        ("SELECT acct.Name FROM Account acct WHERE acct.Name != null", ["Name"]),
        # A path whose first part is not the alias is a relationship.
        ("SELECT Owner.Name FROM Account a", ["Owner.Name"]),
        # Without an alias nothing is stripped.
        ("SELECT Account.Name FROM Account", ["Account.Name"]),
    ],
)
def test_alias_qualified_paths_drop_the_alias(query: str, expected: list[str]) -> None:
    select = parse(query)
    assert names(select) == expected


def test_alias_is_recorded_and_stripped_everywhere() -> None:
    select = parse(
        "SELECT a.Name FROM Account a WHERE a.Industry = 'x' GROUP BY a.Name ORDER BY a.Name"
    )
    assert select.alias == "a"
    assert select.where == Comparison(
        FieldPath(("Industry",), P(35), (P(37),)), "=", StringLit("x", P(48)), P(35)
    )
    assert select.group_by == (FieldPath(("Name",), P(61), (P(63),)),)
    assert select.order_by[0].field == FieldPath(("Name",), P(77), (P(79),))


def test_child_subquery_can_use_outer_alias_and_its_own() -> None:
    select = parse("SELECT a.Id, (SELECT c.LastName FROM a.Contacts c) FROM Account a")
    child = select.fields[1]
    assert isinstance(child, SubQuery)
    assert child.select.sobject == "Contacts"
    assert child.select.alias == "c"
    assert names(child.select) == ["LastName"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT COUNT() FROM Account", Aggregate("COUNT", None, P(7))),
        ("SELECT count() FROM Account", Aggregate("COUNT", None, P(7))),
        ("SELECT COUNT(Id) FROM Account", Aggregate("COUNT", F(13, "Id"), P(7))),
        (
            "SELECT COUNT_DISTINCT(Name) FROM Account",
            Aggregate("COUNT_DISTINCT", F(22, "Name"), P(7)),
        ),
        ("SELECT SUM(Amount) s FROM Opportunity", Aggregate("SUM", F(11, "Amount"), P(7), "s")),
        ("SELECT avg(Amount) FROM Opportunity", Aggregate("AVG", F(11, "Amount"), P(7))),
        ("SELECT MIN(CloseDate) FROM Opportunity", Aggregate("MIN", F(11, "CloseDate"), P(7))),
        (
            "SELECT Max(Account.Name) m FROM Contact",
            Aggregate("MAX", F(11, "Account", "Name"), P(7), "m"),
        ),
    ],
)
def test_aggregates(query: str, expected: Aggregate) -> None:
    assert parse(query).fields == (expected,)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT toLabel(Status) FROM Lead", FunctionCall("toLabel", F(15, "Status"), P(7))),
        ("SELECT TOLABEL(Status) s FROM Lead", FunctionCall("toLabel", F(15, "Status"), P(7), "s")),
        ("SELECT FORMAT(Amount) FROM Opportunity", FunctionCall("FORMAT", F(14, "Amount"), P(7))),
        (
            "SELECT convertCurrency(Amount) FROM Opportunity",
            FunctionCall("convertCurrency", F(23, "Amount"), P(7)),
        ),
        (
            "SELECT FORMAT(MIN(CloseDate)) m FROM Opportunity",
            FunctionCall("FORMAT", Aggregate("MIN", F(18, "CloseDate"), P(14)), P(7), "m"),
        ),
        (
            "SELECT CALENDAR_YEAR(CreatedDate) FROM Account",
            FunctionCall("CALENDAR_YEAR", F(21, "CreatedDate"), P(7)),
        ),
        (
            "SELECT DAY_ONLY(convertTimezone(CreatedDate)) FROM Account",
            FunctionCall(
                "DAY_ONLY", FunctionCall("convertTimezone", F(32, "CreatedDate"), P(16)), P(7)
            ),
        ),
    ],
)
def test_functions(query: str, expected: FunctionCall) -> None:
    assert parse(query).fields == (expected,)


@pytest.mark.parametrize("kind", ["ALL", "STANDARD", "CUSTOM", "all", "Custom"])
def test_fields_macro(kind: str) -> None:
    select = parse(f"SELECT FIELDS({kind}) FROM Account LIMIT 200")
    assert select.fields == (FieldsMacro(kind.upper(), P(7)),)


def test_fields_standard_needs_no_limit() -> None:
    assert parse("SELECT FIELDS(STANDARD) FROM Account").limit is None


def test_fields_macro_mixed_with_fields() -> None:
    select = parse("SELECT Id, FIELDS(CUSTOM), Name FROM Account LIMIT 5")
    assert [type(item).__name__ for item in select.fields] == [
        "FieldPath",
        "FieldsMacro",
        "FieldPath",
    ]


def test_field_alias_is_kept_for_grouped_queries() -> None:
    select = parse("SELECT Industry ind, COUNT(Id) c FROM Account GROUP BY Industry")
    assert select.fields[0] == F(7, "Industry", alias="ind")


def test_nested_child_subqueries() -> None:
    select = parse("SELECT Name, (SELECT Name, (SELECT Id FROM Cases) FROM Contacts) FROM Account")
    child = select.fields[1]
    assert isinstance(child, SubQuery)
    grandchild = child.select.fields[1]
    assert isinstance(grandchild, SubQuery)
    assert grandchild.select.sobject == "Cases"


def test_child_subquery_clauses() -> None:
    select = parse(
        "SELECT Id, (SELECT Id FROM Contacts WHERE A = 1 ORDER BY Name LIMIT 3 OFFSET 1) "
        "FROM Account LIMIT 1"
    )
    child = select.fields[1]
    assert isinstance(child, SubQuery)
    assert (child.select.limit, child.select.offset) == (3, 1)
    assert [o.field for o in child.select.order_by] == [F(57, "Name")]


# --- FROM and trailing clauses --------------------------------------------------


def test_object_spelling_and_alias() -> None:
    select = parse("select id from my_ns__Thing__c t")
    assert (select.sobject, select.alias, select.sobject_pos) == ("my_ns__Thing__c", "t", P(15))


@pytest.mark.parametrize("scope", ["Everything", "Mine", "Team", "Delegated", "mine"])
def test_using_scope(scope: str) -> None:
    assert parse(f"SELECT Id FROM Account USING SCOPE {scope}").using_scope == scope


@pytest.mark.parametrize("word", ["SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE", "user_mode"])
def test_with_clause(word: str) -> None:
    select = parse(f"SELECT Id FROM Account WHERE Name != null WITH {word} LIMIT 1")
    assert (select.with_, select.limit) == (word.upper(), 1)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("ORDER BY Name", [(("Name",), False, None)]),
        ("ORDER BY Name ASC", [(("Name",), False, None)]),
        ("order by Name desc", [(("Name",), True, None)]),
        ("ORDER BY Name NULLS FIRST", [(("Name",), False, "FIRST")]),
        ("ORDER BY Name DESC NULLS LAST, Id", [(("Name",), True, "LAST"), (("Id",), False, None)]),
        ("ORDER BY Owner.Name ASC NULLS last", [(("Owner", "Name"), False, "LAST")]),
    ],
)
def test_order_by(tail: str, expected: list[tuple[tuple[str, ...], bool, str | None]]) -> None:
    select = parse(f"SELECT Id FROM Account {tail}")
    got = []
    for item in select.order_by:
        assert isinstance(item.field, FieldPath)
        got.append((item.field.parts, item.descending, item.nulls))
    assert got == expected


def test_order_by_aggregate() -> None:
    select = parse("SELECT Name, COUNT(Id) FROM Account GROUP BY Name ORDER BY COUNT(Id) DESC")
    assert select.order_by[0].field == Aggregate("COUNT", F(65, "Id"), P(59))


@pytest.mark.parametrize(
    ("tail", "limit", "offset"),
    [
        ("", None, None),
        ("LIMIT 0", 0, None),
        ("LIMIT 50000", 50000, None),
        ("OFFSET 2000", None, 2000),
        ("LIMIT 10 OFFSET 0", 10, 0),
    ],
)
def test_limit_offset(tail: str, limit: int | None, offset: int | None) -> None:
    select = parse(f"SELECT Id FROM Account {tail}")
    assert (select.limit, select.offset) == (limit, offset)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("FOR VIEW", ("VIEW",)),
        ("FOR REFERENCE", ("REFERENCE",)),
        ("FOR UPDATE", ("UPDATE",)),
        ("LIMIT 1 FOR VIEW FOR UPDATE", ("VIEW", "UPDATE")),
        ("for reference", ("REFERENCE",)),
    ],
)
def test_for_clause(tail: str, expected: tuple[str, ...]) -> None:
    assert parse(f"SELECT Id FROM Account {tail}").for_ == expected


@pytest.mark.parametrize(
    ("group", "kind", "fields"),
    [
        ("GROUP BY Industry", None, [("Industry",)]),
        ("GROUP BY Industry, Type", None, [("Industry",), ("Type",)]),
        ("GROUP BY ROLLUP(Industry, Type)", "ROLLUP", [("Industry",), ("Type",)]),
        ("GROUP BY CUBE(Type)", "CUBE", [("Type",)]),
    ],
)
def test_group_by(group: str, kind: str | None, fields: list[tuple[str, ...]]) -> None:
    select = parse(f"SELECT Industry, Type, COUNT(Id) FROM Account {group}")
    assert select.group_by_kind == kind
    assert [f.parts for f in select.group_by if isinstance(f, FieldPath)] == fields


def test_group_by_date_function() -> None:
    select = parse(
        "SELECT CALENDAR_YEAR(CreatedDate), SUM(Amount) FROM Opportunity "
        "GROUP BY CALENDAR_YEAR(CreatedDate)"
    )
    assert select.group_by == (FunctionCall("CALENDAR_YEAR", F(87, "CreatedDate"), P(73)),)


def test_keywords_are_case_insensitive() -> None:
    lower = parse("select id from account where name = 'x' order by name limit 1")
    upper = parse("SELECT id FROM account WHERE name = 'x' ORDER BY name LIMIT 1")
    assert lower == upper


def test_whitespace_and_newlines_are_insignificant() -> None:
    a = parse("SELECT Id FROM Account WHERE Name = 'x'")
    b = parse("SELECT   Id\n\tFROM Account\r\n WHERE Name='x'")
    assert b.fields[0] == FieldPath(("Id",), Pos(9, 1, 10), (Pos(9, 1, 10),))
    assert isinstance(b.where, Comparison)
    assert b.where.field == FieldPath(("Name",), Pos(34, 3, 8), (Pos(34, 3, 8),))
    assert a.where == Comparison(F(29, "Name"), "=", StringLit("x", P(36)), P(29))


@pytest.mark.parametrize(
    ("query", "sobject", "paths"),
    [
        # Group is both an object and a reserved word.
        ("SELECT Id FROM Group WHERE Type = 'Queue'", "Group", ["Id"]),
        ("SELECT Id FROM Group", "Group", ["Id"]),
        ("SELECT Group.Name FROM GroupMember", "GroupMember", ["Group.Name"]),
        # ORDER, OFFSET, FOR ... are keywords but not reserved.
        ("SELECT Id FROM Order ORDER BY Id", "Order", ["Id"]),
        ("SELECT Order.OrderNumber FROM OrderItem", "OrderItem", ["Order.OrderNumber"]),
    ],
)
def test_keyword_like_names(query: str, sobject: str, paths: list[str]) -> None:
    select = parse(query)
    assert select.sobject == sobject
    assert names(select) == paths
    assert select.alias is None


def test_group_by_after_group_object() -> None:
    select = parse("SELECT Type, COUNT(Id) FROM Group GROUP BY Type")
    assert select.sobject == "Group"
    assert select.group_by == (F(43, "Type"),)
