"""Bulk query results: each column's writer, chosen once per plan, writes what ``to_wire``
gives for every field type (as the per-value path did), null as empty."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from localforce.data.bulk.query import _cell
from localforce.data.schema import FieldDef
from localforce.data.values import to_wire


def per_value(f: FieldDef, value: Any) -> str:
    """The former writer: ``to_wire`` per value."""
    wire = None if f.type == "address" else to_wire(f, value, "")
    return "" if wire is None else "true" if wire is True else "false" if wire is False \
        else str(wire)


@pytest.mark.parametrize(("kind", "values"), [
    ("string", ["Acme", "", "ölwerk, \"quoted\"", None]),
    ("textarea", ["two\nlines", None]),
    ("picklist", ["Energy", None]),
    ("id", ["001000000000001AAA", None]),
    ("reference", ["005000000000001AAA", None]),
    ("boolean", [True, False, 1, 0, None]),
    ("int", [0, 7, -3, 5.0, None]),
    ("long", [2 ** 40, None]),
    ("double", [1.5, 5000, 0, -2.25, float("inf"), None]),
    ("currency", [1234.5, 10, None]),
    ("percent", [12.5, None]),
    ("date", ["2026-12-04", None]),
    ("datetime", ["2026-12-04T07:00:00.000+0000", None]),
    ("base64", ["aGVsbG8=", None]),
    ("address", [None, "anything"]),
    ("anyType", [True, False, 3, "x", None]),
])
def test_each_type_written_as_to_wire_wrote_it(kind: str, values: list[Any]) -> None:
    f = FieldDef("Field", kind, {"name": "Field", "type": kind})
    cell = _cell(f)
    if cell is None:  # as stored: the CSV writer writes it, null as empty
        assert all(isinstance(v, str) or v is None for v in values)
        written = io.StringIO()
        csv.writer(written, quoting=csv.QUOTE_ALL).writerow(values)
        expected = io.StringIO()
        csv.writer(expected, quoting=csv.QUOTE_ALL).writerow([per_value(f, v) for v in values])
        assert written.getvalue() == expected.getvalue()
    else:
        assert [cell(v) for v in values] == [per_value(f, v) for v in values]
