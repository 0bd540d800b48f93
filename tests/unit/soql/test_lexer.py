"""Tokens, positions, string escapes and literal validation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from localforce.soql.ast import Pos, StringLit
from localforce.soql.errors import MalformedQuery
from localforce.soql.lexer import tokenize


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def string_value(source: str) -> StringLit:
    (token, _eof) = tokenize(source)
    assert token.kind == "STRING"
    assert isinstance(token.value, StringLit)
    return token.value


def test_token_kinds_and_texts() -> None:
    assert kinds("SELECT a.B, COUNT() FROM x WHERE n >= -1.5 AND s != 'q'") == [
        ("IDENT", "SELECT"), ("IDENT", "a"), ("PUNCT", "."), ("IDENT", "B"),
        ("PUNCT", ","), ("IDENT", "COUNT"), ("PUNCT", "("), ("PUNCT", ")"),
        ("IDENT", "FROM"), ("IDENT", "x"), ("IDENT", "WHERE"), ("IDENT", "n"),
        ("PUNCT", ">="), ("NUMBER", "-1.5"), ("IDENT", "AND"), ("IDENT", "s"),
        ("PUNCT", "!="), ("STRING", "'q'"), ("EOF", "<EOF>"),
    ]  # fmt: skip


@pytest.mark.parametrize("op", ["=", "!=", "<>", "<", "<=", ">", ">=", ":", "(", ")", ",", "."])
def test_punctuation(op: str) -> None:
    assert kinds(f"a {op} b")[1] == ("PUNCT", op)


def test_positions_across_lines() -> None:
    tokens = tokenize("SELECT Id\r\nFROM Account\n  WHERE")
    assert [t.pos for t in tokens] == [
        Pos(0, 1, 1),
        Pos(7, 1, 8),
        Pos(11, 2, 1),
        Pos(16, 2, 6),
        Pos(26, 3, 3),
        Pos(31, 3, 8),  # EOF sits after the last character
    ]


@pytest.mark.parametrize(
    ("source", "value"),
    [("42", "42"), ("0", "0"), ("3.25", "3.25"), (".5", "0.5"), ("-7", "-7"), ("+7", "7")],
)
def test_numbers(source: str, value: str) -> None:
    token = tokenize(f"x = {source}")[2]
    assert (token.kind, token.text, token.value) == ("NUMBER", source, Decimal(value))


def test_minus_is_a_sign_only_where_a_value_starts() -> None:
    with pytest.raises(MalformedQuery) as info:
        tokenize("LIMIT 5-3")
    assert info.value.message == "line 1:7 unexpected token: '-'"


def test_date_token() -> None:
    token = tokenize("d = 2024-02-29")[2]
    assert (token.kind, token.value) == ("DATE", dt.date(2024, 2, 29))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2024-01-31T10:20:30Z", dt.datetime(2024, 1, 31, 10, 20, 30, tzinfo=dt.UTC)),
        ("2024-01-31t10:20:30z", dt.datetime(2024, 1, 31, 10, 20, 30, tzinfo=dt.UTC)),
        (
            "2024-01-31T10:20:30.123Z",
            dt.datetime(2024, 1, 31, 10, 20, 30, 123000, tzinfo=dt.UTC),
        ),
        (
            "1999-01-01T23:01:01+01:00",
            dt.datetime(1999, 1, 1, 23, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        (
            "1999-01-01T23:01:01-08:30",
            dt.datetime(
                1999, 1, 1, 23, 1, 1, tzinfo=dt.timezone(-dt.timedelta(hours=8, minutes=30))
            ),
        ),
    ],
)
def test_datetime_token(source: str, expected: dt.datetime) -> None:
    token = tokenize(f"d > {source}")[2]
    assert token.kind == "DATETIME"
    assert token.text == source
    assert token.value == expected
    assert token.value.tzinfo is not None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Both recorded in the Summer '24 release notes.
        ("2020-12-12t12:12:00-25:00", "Invalid datetime: 2020-12-12t12:12:00-25:00"),
        ("2020-52-12t12:12:00-05:00", "Invalid datetime: 2020-52-12t12:12:00-05:00"),
        ("2024-01-31T10:20Z", "Invalid datetime: 2024-01-31T10:20Z"),
        ("2024-01-31T10:20:30", "Invalid datetime: 2024-01-31T10:20:30"),
        ("2023-02-29", "Invalid date: 2023-02-29"),
        ("2024-13-01", "Invalid date: 2024-13-01"),
    ],
)
def test_invalid_dates(source: str, message: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        tokenize(f"SELECT Id FROM Account WHERE d > {source}")
    assert info.value.message == message


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (r"'plain'", "plain"),
        (r"''", ""),
        (r"'a\nb\rc\td\be\ff'", "a\nb\rc\td\be\ff"),
        (r"'A\NB\RC\TD\BE\FF'", "A\nB\rC\tD\bE\fF"),
        (r"'it\'s'", "it's"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r"'back\\slash'", "back\\slash"),
        (r"'\u00e9t\u00C9'", "étÉ"),
        ("'multi\nline'", "multi\nline"),
    ],
)
def test_string_escapes(source: str, value: str) -> None:
    literal = string_value(source)
    assert literal.value == value
    assert literal.escaped_wildcards == ()


def test_escaped_wildcards_are_recorded() -> None:
    literal = string_value(r"'50\%_off\_'")
    assert literal.value == "50%_off_"
    assert literal.escaped_wildcards == (2, 7)
    assert literal.like_pattern() == r"50\%_off\_"


def test_like_pattern_escapes_backslashes_and_keeps_wildcards() -> None:
    literal = string_value(r"'a\\b%c'")
    assert literal.value == "a\\b%c"
    assert literal.like_pattern() == "a\\\\b%c"
    assert literal.like_pattern(escape="!") == "a\\b%c"


@pytest.mark.parametrize("bad", [r"\x", r"\a", r"\u1g", r"\ "])
def test_other_backslashes_are_errors(bad: str) -> None:
    with pytest.raises(MalformedQuery) as info:
        tokenize(f"x = 'ab{bad}cd'")
    assert info.value.error_code == "MALFORMED_QUERY"
    assert info.value.message.startswith(f"Invalid string literal 'ab{bad}")
    assert "Illegal character sequence" in info.value.message


def test_unterminated_string() -> None:
    with pytest.raises(MalformedQuery) as info:
        tokenize("SELECT Id FROM A WHERE Name = 'abc")
    assert info.value.message == (
        "\nSELECT Id FROM A WHERE Name = 'abc\n"
        "                                 ^\n"
        "ERROR at Row:1:Column:34\n"
        "unexpected token: '<EOF>'"
    )


@pytest.mark.parametrize("char", ["$", '"', "#", ";", "*", "!"])
def test_unknown_character_is_a_bare_lexer_error(char: str) -> None:
    # Recorded (Summer '24): "line 1:15 unexpected token: '$'" with a 0-based column.
    with pytest.raises(MalformedQuery) as info:
        tokenize(f"SELECT Id from {char}casecomment")
    assert info.value.message == f"line 1:15 unexpected token: '{char}'"
    assert info.value.row is None


def test_identifiers_keep_spelling() -> None:
    assert kinds("sElEcT My_Field__c ns__Obj__c") == [
        ("IDENT", "sElEcT"),
        ("IDENT", "My_Field__c"),
        ("IDENT", "ns__Obj__c"),
        ("EOF", "<EOF>"),
    ]
