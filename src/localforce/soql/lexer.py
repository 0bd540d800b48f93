"""SOQL tokens with positions.

Token kinds:

``IDENT``     identifiers *and* keywords (SOQL keywords are not reserved in
              every position, so the parser decides, case-insensitively)
``STRING``    ``'...'``; ``value`` is a :class:`~localforce.soql.ast.StringLit`
``NUMBER``    ``42``, ``-1.5``, ``.5``; ``value`` is a ``Decimal``
``DATE``      ``2024-01-31``; ``value`` is a ``date``
``DATETIME``  ``2024-01-31T10:00:00.000+02:00``; ``value`` is an aware ``datetime``
``PUNCT``     ``( ) , . : = != <> < <= > >=``
``EOF``       end of input (``text`` is ``<EOF>``)

String escapes (SOQL & SOSL Reference, "Quoted String Escape Sequences"):
``\\n \\r \\t \\b \\f \\" \\' \\\\ \\uXXXX`` and the upper-case ``\\N \\R \\T \\B
\\F``; ``\\%`` and ``\\_`` are literal wildcards for ``LIKE``.  Any other
backslash is an error.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from localforce.soql.ast import Pos, StringLit
from localforce.soql.errors import MalformedQuery

__all__ = ["Token", "tokenize"]

_SIMPLE_ESCAPES = {
    "n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t",
    "b": "\b", "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\",
}  # fmt: skip

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# Anything that starts like a date is consumed whole, then validated strictly.
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt][0-9:.]*(?:[Zz]|[+-][0-9:]*)?)?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_PUNCT = ("!=", "<>", "<=", ">=", "(", ")", ",", ".", ":", "=", "<", ">")
_BLANK = " \t\r\n\f"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    value: object
    pos: Pos
    end: int

    def is_word(self, *words: str) -> bool:
        """True if this is an ``IDENT`` equal (case-insensitively) to one of ``words``."""
        return self.kind == "IDENT" and self.text.upper() in words


class _Lines:
    """Offset -> (row, column) for ``\\n``, ``\\r\\n`` and ``\\r`` line breaks."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def pos(self, offset: int) -> Pos:
        row = bisect.bisect_right(self.starts, offset)
        return Pos(offset, row, offset - self.starts[row - 1] + 1)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one ``EOF`` token."""
    lines = _Lines(text)
    tokens: list[Token] = []
    i = 0
    while True:
        while i < len(text) and text[i] in _BLANK:
            i += 1
        if i >= len(text):
            tokens.append(Token("EOF", "<EOF>", None, lines.pos(len(text)), len(text)))
            return tokens
        token = _next_token(text, i, lines)
        tokens.append(token)
        i = token.end


def _next_token(text: str, i: int, lines: _Lines) -> Token:
    pos = lines.pos(i)
    char = text[i]
    if char == "'":
        return _string(text, i, lines)
    if char.isdigit() and (match := _DATE_LIKE.match(text, i)):
        return _date_or_datetime(match.group(), pos)
    if m := _NUMBER.match(text, i):
        if char not in "+-" or _after_operator(text, i):
            return Token("NUMBER", m.group(), Decimal(m.group()), pos, m.end())
    if m := _IDENT.match(text, i):
        return Token("IDENT", m.group(), m.group(), pos, m.end())
    for punct in _PUNCT:
        if text.startswith(punct, i):
            return Token("PUNCT", punct, punct, pos, i + len(punct))
    # Salesforce's lexer errors are bare and use a 0-based column, e.g.
    # "line 1:15 unexpected token: '$'" (Summer '24 release notes).
    raise MalformedQuery(f"line {pos.row}:{pos.column - 1} unexpected token: '{char}'")


def _after_operator(text: str, i: int) -> bool:
    """A sign is part of a number only where a value can start (after ``= ( ,`` ...)."""
    j = i - 1
    while j >= 0 and text[j] in _BLANK:
        j -= 1
    return j < 0 or text[j] in "=<>(,:"


def _date_or_datetime(text: str, pos: Pos) -> Token:
    end = pos.offset + len(text)
    if "T" not in text.upper():
        m = _DATE.fullmatch(text)
        try:
            assert m is not None
            value = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except (AssertionError, ValueError):
            raise MalformedQuery(f"Invalid date: {text}") from None
        return Token("DATE", text, value, pos, end)
    try:
        return Token("DATETIME", text, _parse_datetime(text), pos, end)
    except ValueError:
        # Wording from the Summer '24 release notes.
        raise MalformedQuery(f"Invalid datetime: {text}") from None


def _parse_datetime(text: str) -> dt.datetime:
    m = _DATETIME.fullmatch(text)
    if m is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    micro = int((m[7] or "0").ljust(6, "0")[:6])
    if m[8]:
        zone = dt.UTC
    else:
        hours, minutes = int(m[10]), int(m[11])
        if hours > 23 or minutes > 59:
            raise ValueError(text)
        delta = dt.timedelta(hours=hours, minutes=minutes)
        zone = dt.timezone(-delta if m[9] == "-" else delta)
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)


def _string(text: str, start: int, lines: _Lines) -> Token:
    chars: list[str] = []
    escaped: list[int] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            value = StringLit("".join(chars), lines.pos(start), tuple(escaped))
            return Token("STRING", text[start : i + 1], value, lines.pos(start), i + 1)
        if char != "\\":
            chars.append(char)
            i += 1
            continue
        i = _escape(text, start, i, chars, escaped)
    # An unterminated string runs into the end of the statement.
    eof = lines.pos(len(text))
    raise MalformedQuery("unexpected token: '<EOF>'", eof.row, eof.column - 1, query=text)


def _escape(text: str, start: int, i: int, chars: list[str], escaped: list[int]) -> int:
    """Decode the escape at ``text[i] == '\\\\'``; return the index after it."""
    code = text[i + 1 : i + 2]
    if code in _SIMPLE_ESCAPES:
        chars.append(_SIMPLE_ESCAPES[code])
        return i + 2
    if code in ("%", "_"):
        escaped.append(len(chars))
        chars.append(code)
        return i + 2
    if code == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", text[i + 2 : i + 6]):
        chars.append(chr(int(text[i + 2 : i + 6], 16)))
        return i + 6
    end = text.find("'", i + 2)
    literal = text[start : end + 1] if end != -1 else text[start:]
    sequence = text[i : i + 2] if code != "u" else text[i : i + 6]
    # Wording not verified against a recorded Salesforce response.
    raise MalformedQuery(
        f"Invalid string literal {literal}. Illegal character sequence '{sequence}' "
        "in string literal."
    )
