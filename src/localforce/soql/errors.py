"""SOQL errors and Salesforce's error-message shape.

Salesforce reports a query error as one string inside the REST error array
(``[{"message": ..., "errorCode": "MALFORMED_QUERY"}]``).  When the error has
a position the string echoes the offending line with a caret under it::

    \\nSELECT Id, FROM Account\\n          ^\\nERROR at Row:1:Column:11\\nunexpected token: 'FROM'

Observed conventions this module reproduces (salesforce-wire.md section 8 and
recorded responses found in public client code):

* Rows and columns are printed as Salesforce prints them.  Semantic errors
  (``No such column ...``, reported by the compiler, not by this package) use
  the 1-based column of the offending token.  Syntax errors from Salesforce's
  ANTLR grammar print ANTLR's *0-based* ``charPositionInLine``, so the column
  and the caret land one character before the token: ``SELECT Id, FROM Account``
  gives ``Column:11`` with the caret under the space before ``FROM``.  Three
  independent recordings agree (``unexpected token: 'From'`` at Column:78 and
  Column:50, ``unexpected token: 'LIMIT'`` at Column:62).  The parser does this
  conversion; :func:`format_error` just prints what it is given.
* Long lines are cut to a window of about 35 characters either side of the
  caret, aligned to word boundaries (see :func:`snippet_window`).
* A wrong *first* token yields the bare ``unexpected token: SELEKT`` (no quotes,
  no caret), and lexer failures yield ``line 1:15 unexpected token: '$'``; both
  are bare messages (``row``/``column`` of ``None``).
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_QUERY_LENGTH",
    "MalformedQuery",
    "NumberOutsideValidRange",
    "SoqlError",
    "format_error",
    "snippet_window",
]

#: Salesforce: "By default, SOQL statements cannot exceed 100,000 characters."
MAX_QUERY_LENGTH = 100_000

#: How many characters of a long line are echoed either side of the caret.
WINDOW_RADIUS = 35

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class SoqlError(Exception):
    """A query Salesforce would reject; carries its wire ``error_code``.

    ``detail`` is the human text (``unexpected token: 'FROM'``).  ``row`` and
    ``column`` are the numbers printed in ``ERROR at Row:<r>:Column:<c>``;
    when either is ``None`` the message is the bare detail.  ``query`` is the
    statement text, needed to echo the offending line.
    """

    error_code = "MALFORMED_QUERY"

    def __init__(
        self,
        detail: str,
        row: int | None = None,
        column: int | None = None,
        *,
        query: str | None = None,
    ) -> None:
        self.detail = detail
        self.row = row
        self.column = column
        self.query = query
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The exact ``message`` string Salesforce would put on the wire."""
        if self.row is None or self.column is None or self.query is None:
            return self.detail
        return format_error(self.query, self.detail, self.row, self.column)


class MalformedQuery(SoqlError):
    """``MALFORMED_QUERY``: the statement is not valid SOQL."""

    error_code = "MALFORMED_QUERY"


class QueryTooComplicated(SoqlError):
    """``QUERY_TOO_COMPLICATED``: more nesting or filter terms than the server evaluates (our
    bounds, conditions.MAX_NESTING and MAX_TERMS; the text is Salesforce's)."""

    error_code = "QUERY_TOO_COMPLICATED"

    def __init__(self) -> None:
        super().__init__("Query is either selecting too many fields or the filter conditions "
                         "are too complicated.")


class NumberOutsideValidRange(SoqlError):
    """``NUMBER_OUTSIDE_VALID_RANGE``, e.g. ``OFFSET`` above 2,000.

    SOQL & SOSL Reference, OFFSET: "Requesting an offset greater than 2,000
    results in a NUMBER_OUTSIDE_VALID_RANGE error."
    """

    error_code = "NUMBER_OUTSIDE_VALID_RANGE"


def format_error(query: str, message: str, row: int, column: int) -> str:
    """Salesforce's positioned message: line, caret, ``ERROR at Row``, detail.

    ``row`` is 1-based; the caret goes under 1-based ``column`` of that line
    (clamped to the line).  Lines longer than the window are truncated by
    :func:`snippet_window`.
    """
    lines = _LINE_BREAK.split(query)
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    caret = max(column - 1, 0)
    start, end = snippet_window(line, min(caret, len(line)))
    pad = " " * max(caret - start, 0)
    return f"\n{line[start:end]}\n{pad}^\nERROR at Row:{row}:Column:{column}\n{message}"


def snippet_window(line: str, caret: int) -> tuple[int, int]:
    """The ``[start, end)`` slice of ``line`` echoed around a 0-based caret.

    Reconstructed from recorded Salesforce messages: keep ``WINDOW_RADIUS``
    characters either side of the caret; a cut that falls inside a word (a run
    of identifier characters and dots) moves inwards to the word boundary, so
    the partial word is dropped (unless the caret is in that word); blanks and
    commas after a left cut and blanks before a right cut are dropped too.  A
    line that fits is returned whole.

    Fitted to recorded messages, e.g. ``SELECT Id FROM Account SET OPTIONS
    (honorEmptyStrings = true) LIMIT 1`` echoed as ``OPTIONS (honorEmptyStrings
    = true) LIMIT 1`` and ``SELECT Id, DepProbeField__c FROM Account LIMIT 1``
    echoed as ``SELECT Id, DepProbeField__c FROM Account LIMIT``.
    """
    start = max(caret - WINDOW_RADIUS, 0)
    if start > 0 and _is_word(line, start - 1):
        # Drop the partial word, unless the caret itself is inside it.
        word_end = start
        while word_end < caret and _is_word(line, word_end):
            word_end += 1
        start = word_end if word_end < caret else start
    while 0 < start < caret and line[start] in " \t,":
        start += 1
    end = min(caret + WINDOW_RADIUS, len(line))
    if end < len(line) and _is_word(line, end):
        word_start = end
        while word_start > caret + 1 and _is_word(line, word_start - 1):
            word_start -= 1
        end = word_start if word_start > caret + 1 else end
    while caret + 1 < end < len(line) and line[end - 1] in " \t":
        end -= 1
    return start, end


def _is_word(line: str, index: int) -> bool:
    """Identifier characters, dots included, so ``Account.Name`` is one word."""
    return 0 <= index < len(line) and (line[index].isalnum() or line[index] in "_.")
