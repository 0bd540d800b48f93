"""Exact Salesforce error messages: codes, caret lines, windows, bare forms."""

from __future__ import annotations

import pytest

from localforce.soql import (
    MalformedQuery,
    NumberOutsideValidRange,
    SoqlError,
    format_error,
    parse,
)
from localforce.soql.errors import MAX_QUERY_LENGTH, snippet_window


def error(query: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        parse(query)
    return info.value


# --- format_error against recorded Salesforce messages -------------------------------


@pytest.mark.parametrize(
    ("query", "detail", "column", "expected"),
    [
        (  # recorded INVALID_FIELD (salesforce-wire.md section 8)
            "SELECT Bacon__c FROM Account LIMIT 2",
            "No such column 'Bacon__c' on entity 'Account'.",
            8,
            "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\n"
            "No such column 'Bacon__c' on entity 'Account'.",
        ),
        (  # recorded INVALID_TYPE
            "SELECT Id FROM no_such_object",
            "sObject type 'no_such_object' is not supported.",
            16,
            "\nSELECT Id FROM no_such_object\n               ^\nERROR at Row:1:Column:16\n"
            "sObject type 'no_such_object' is not supported.",
        ),
        (  # recorded REST probe: window starts at a word about 35 characters back
            "SELECT Id FROM Account SET OPTIONS (honorEmptyStrings = true) LIMIT 1",
            "unexpected token: 'LIMIT'",
            62,
            "\nOPTIONS (honorEmptyStrings = true) LIMIT 1\n"
            "                                  ^\nERROR at Row:1:Column:62\n"
            "unexpected token: 'LIMIT'",
        ),
        (  # recorded ("ORG-VERIFIED"): window ends at a word about 35 characters on
            "SELECT Id, DepProbeField__c FROM Account LIMIT 1",
            "No such column 'DepProbeField__c' on entity 'Account'.",
            12,
            "\nSELECT Id, DepProbeField__c FROM Account LIMIT\n           ^\n"
            "ERROR at Row:1:Column:12\nNo such column 'DepProbeField__c' on entity 'Account'.",
        ),
    ],
)
def test_format_error_matches_recordings(
    query: str, detail: str, column: int, expected: str
) -> None:
    assert format_error(query, detail, 1, column) == expected


def test_format_error_uses_the_error_row() -> None:
    query = "SELECT Id\nFROM Account\nWHERE Nope__c = 1"
    assert (
        format_error(query, "x", 3, 7) == "\nWHERE Nope__c = 1\n      ^\nERROR at Row:3:Column:7\nx"
    )


def test_format_error_crlf_rows() -> None:
    query = "SELECT Id\r\nFROM Account\r\nWHERE"
    assert format_error(query, "x", 2, 1) == "\nFROM Account\n^\nERROR at Row:2:Column:1\nx"


@pytest.mark.parametrize(
    ("line", "caret", "window"),
    [
        ("short line", 3, "short line"),
        # The caret's own word is cut rather than dropped.
        ("a" * 10 + " " + "b" * 80, 50, "b" * 70),
        ("Xyz__c,Test_Phone__c,Test_Picklist__c,Test_Text1__c,Test_Text_Area__c FROM Obj", 38,
         "Test_Phone__c,Test_Picklist__c,Test_Text1__c,Test_Text_Area__c"),
        ("SELECT Id, Name, HG_Insights__HG_Match_Status__c, From Account LIMIT 10", 49,
         "HG_Insights__HG_Match_Status__c, From Account LIMIT 10"),
    ],
)  # fmt: skip
def test_snippet_window(line: str, caret: int, window: str) -> None:
    start, end = snippet_window(line, caret)
    assert line[start:end] == window


def test_snippet_window_inside_one_long_word_cuts_it() -> None:
    assert snippet_window("x" * 200, 100) == (65, 135)


def test_snippet_window_keeps_a_trailing_blank_at_line_end() -> None:
    # Recorded: "\nLastModifiedById, LastModifiedDate, From Account \n" (line end kept).
    line = "SELECT Id, Name, Type, LastModifiedById, LastModifiedDate, From Account "
    start, end = snippet_window(line, line.index("From") - 1)
    assert line[start:end] == "LastModifiedById, LastModifiedDate, From Account "
    assert line.index("From") - 1 - start == 35


# --- syntax errors from parse() --------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (  # recorded (jsforce test fixture of a real response)
            "SELECT Id, FROM Account",
            "\nSELECT Id, FROM Account\n          ^\nERROR at Row:1:Column:11\n"
            "unexpected token: 'FROM'",
        ),
        (
            "SELECT Id FROM Account WHERE",
            "\nSELECT Id FROM Account WHERE\n                           ^\n"
            "ERROR at Row:1:Column:28\nunexpected token: '<EOF>'",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'x' LIMIT",
            "\nFROM Account WHERE Name = 'x' LIMIT\n                                  ^\n"
            "ERROR at Row:1:Column:45\nunexpected token: '<EOF>'",
        ),
        (  # Summer '24: "SELECT Id FROM Account USING everything" -> 'everything'
            "SELECT Id FROM Account USING everything",
            "\nSELECT Id FROM Account USING everything\n                            ^\n"
            "ERROR at Row:1:Column:29\nunexpected token: 'everything'",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Id = null",
            "\nWHERE Name = 'a' AND Type = 'b' OR Id = null\n"
            "                               ^\nERROR at Row:1:Column:55\n"
            "unexpected token: 'OR'",
        ),
        (
            "SELECT Id\nFROM Account\nWHERE Name = 'x' 'y'",
            "\nWHERE Name = 'x' 'y'\n                ^\nERROR at Row:3:Column:17\n"
            "unexpected token: ''y''",
        ),
        (  # Summer '24: more than two nested functions -> unexpected token: '('
            "SELECT convertCurrency(calendar_year(convertTimezone(lastmodifieddate))) FROM account",
            "\n(calendar_year(convertTimezone(lastmodifieddate))) FROM account\n"
            "                             ^\nERROR at Row:1:Column:52\nunexpected token: '('",
        ),
        (  # COUNT() is only accepted as the whole select list
            "SELECT COUNT(), Name FROM Account",
            "\nSELECT COUNT(), Name FROM Account\n             ^\nERROR at Row:1:Column:14\n"
            "unexpected token: ','",
        ),
        (
            "SELECT Name, COUNT() FROM Account",
            "\nSELECT Name, COUNT() FROM Account\n                  ^\n"
            "ERROR at Row:1:Column:19\nunexpected token: ')'",
        ),
        (
            "SELECT Id FROM Account LIMIT 1 OFFSET 1 LIMIT 2",
            "\nId FROM Account LIMIT 1 OFFSET 1 LIMIT 2\n"
            "                                ^\nERROR at Row:1:Column:40\n"
            "unexpected token: 'LIMIT'",
        ),
    ],
)
def test_caret_messages(query: str, message: str) -> None:
    err = error(query)
    assert isinstance(err, MalformedQuery)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == message
    assert str(err) == message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEKT Id FROM Account", "unexpected token: SELEKT"),  # recorded, bare
        ("Id FROM Account", "unexpected token: Id"),
        ("", "unexpected token: <EOF>"),
        ("(SELECT Id FROM Account)", "unexpected token: ("),
    ],
)
def test_wrong_first_token_is_bare(query: str, message: str) -> None:
    err = error(query)
    assert err.message == message
    assert (err.row, err.column) == (None, None)


@pytest.mark.parametrize(
    ("query", "token"),
    [
        ("SELECT FROM Account", "FROM"),
        ("SELECT Id FROM", "<EOF>"),
        ("SELECT Id Account", "<EOF>"),
        ("SELECT Id FROM Account WHERE", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name == 'x'", "="),
        ("SELECT Id FROM Account WHERE (Name = 'x'", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name = 'x')", ")"),
        ("SELECT Id FROM Account ORDER Name", "Name"),
        ("SELECT Id FROM Account ORDER BY", "<EOF>"),
        ("SELECT Id FROM Account ORDER BY Name NULLS", "<EOF>"),
        ("SELECT Id FROM Account LIMIT x", "x"),
        ("SELECT Id FROM Account LIMIT 1.5", "1.5"),
        ("SELECT Id FROM Account OFFSET 5 LIMIT 1", "LIMIT"),
        ("SELECT Id FROM Account FOR", "<EOF>"),
        ("SELECT Id FROM Account FOR DELETE", "DELETE"),
        ("SELECT Id FROM Account WITH", "<EOF>"),
        ("SELECT Id FROM Account WITH SOMETHING", "SOMETHING"),
        ("SELECT Id FROM Account GROUP Name", "Name"),
        ("SELECT Id FROM Account Account2 Account3", "Account3"),
        ("SELECT Id,, Name FROM Account", ","),
        ("SELECT Id. FROM Account", "FROM"),
        ("SELECT FIELDS(SOME) FROM Account", "SOME"),
        ("SELECT Bogus(Id) FROM Account", "("),
        ("SELECT SUM() FROM Account", ")"),
        ("SELECT COUNT(SUM(Amount)) FROM Account", "SUM"),
        ("SELECT Id, (SELECT Id FROM Contacts FROM Account", "FROM"),
        ("SELECT Id, (SELECT Id FROM Contacts GROUP BY Id) FROM Account", "GROUP"),
        ("SELECT Id FROM Account WHERE NOT", "<EOF>"),
        ("SELECT Id FROM Account WHERE Name NOT LIKE 'x'", "LIKE"),
        ("SELECT Id FROM Account WHERE Name IN 'x'", "'x'"),
        ("SELECT Id FROM Account WHERE Name IN ('x' 'y')", "'y'"),
        ("SELECT Id FROM Account WHERE AND Name = 'x'", "AND"),
        ("SELECT Id FROM Account WHERE Name = 'x' AND", "<EOF>"),
        ("SELECT Id, (SELECT Name) FROM Account", ")"),
        ("SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) INCLUDES ('a')", "("),
    ],
)
def test_unexpected_tokens(query: str, token: str) -> None:
    err = error(query)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.detail == f"unexpected token: '{token}'"
    assert err.message.endswith(f"\nunexpected token: '{token}'")
    assert err.message.startswith("\n")


def test_reported_column_is_zero_based_for_syntax_errors() -> None:
    # Salesforce prints ANTLR's 0-based column: the caret sits one to the left.
    err = error("SELECT Id FROM A ORDER Name")
    assert (err.row, err.column) == (1, 23)  # 'Name' starts at 0-based 23
    assert err.message.splitlines()[2] == " " * 22 + "^"


# --- other Salesforce rules --------------------------------------------------------------


@pytest.mark.parametrize("offset", [2001, 5000, 100000])
def test_offset_above_2000(offset: int) -> None:
    err = error(f"SELECT Id FROM Account LIMIT 10 OFFSET {offset}")
    assert isinstance(err, NumberOutsideValidRange)
    assert err.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert err.message == "Maximum SOQL offset allowed is 2000"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT FIELDS(ALL) FROM Account",
        "SELECT FIELDS(CUSTOM) FROM Account",
        "SELECT FIELDS(ALL) FROM Account LIMIT 201",
        "SELECT Id, (SELECT FIELDS(ALL) FROM Contacts) FROM Account LIMIT 10",
    ],
)
def test_fields_all_and_custom_need_limit_200(query: str) -> None:
    err = error(query)
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == "The SOQL FIELDS function must have a LIMIT of at most 200"


def test_statement_length_limit() -> None:
    filler = " " * (MAX_QUERY_LENGTH - len("SELECT Id FROM Account"))
    assert parse("SELECT Id FROM Account" + filler).sobject == "Account"
    err = error("SELECT Id FROM Account" + filler + " ")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == "SOQL statements cannot exceed 100,000 characters"


def test_error_classes() -> None:
    assert issubclass(MalformedQuery, SoqlError)
    assert issubclass(NumberOutsideValidRange, SoqlError)
    assert SoqlError.error_code == "MALFORMED_QUERY"
    bare = MalformedQuery("boom")
    assert (bare.message, bare.row, bare.column, str(bare)) == ("boom", None, None, "boom")
    positioned = MalformedQuery("boom", 1, 3, query="abcdef")
    assert positioned.message == "\nabcdef\n  ^\nERROR at Row:1:Column:3\nboom"
