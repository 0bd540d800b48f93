"""SOQL as a pure language library: text in, syntax tree out.

No I/O and no database code: :func:`parse` turns a statement into a
:class:`~localforce.soql.ast.Select` or raises a
:class:`~localforce.soql.errors.SoqlError` that carries Salesforce's
``errorCode`` and exact ``message``.  Resolving names against metadata and
compiling to SQL happen elsewhere.
"""

from __future__ import annotations

from localforce.soql.dates import date_literal_range
from localforce.soql.errors import (
    MalformedQuery,
    NumberOutsideValidRange,
    SoqlError,
    format_error,
)
from localforce.soql.parser import parse

__all__ = [
    "MalformedQuery",
    "NumberOutsideValidRange",
    "SoqlError",
    "date_literal_range",
    "format_error",
    "parse",
]
