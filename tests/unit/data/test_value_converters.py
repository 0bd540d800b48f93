"""``values.converter``: a field's conversion to stored form worked out once per Bulk
transaction gives what ``to_storage`` gives for every value, errors included (same code,
message and fields)."""

from __future__ import annotations

from typing import Any

import pytest

from localforce.data.errors import ApiError
from localforce.data.schema import FieldDef
from localforce.data.values import converter, to_storage

FIELDS = [
    FieldDef("Name", "string", {"length": 10, "label": "Name"}),
    FieldDef("Description", "textarea", {}),
    FieldDef("Industry", "picklist", {"picklistValues": [{"value": "Energy", "active": True}]}),
    FieldDef("Rating", "picklist", {"restrictedPicklist": True,
                                    "picklistValues": [{"value": "Hot", "active": True}]}),
    FieldDef("Email", "email", {"length": 80}),
    FieldDef("Phone", "phone", {"length": 40}),
    FieldDef("NumberOfEmployees", "int", {"digits": 8}),
    FieldDef("Big", "long", {}),
    FieldDef("AnnualRevenue", "currency", {"precision": 18, "scale": 2}),
    FieldDef("Ratio", "percent", {"precision": 5, "scale": 2}),
    FieldDef("Score", "double", {}),
    FieldDef("IsActive", "boolean", {}),
    FieldDef("CloseDate", "date", {}),
    FieldDef("ParentId", "reference", {"referenceTo": ["Account"]}),
]
VALUES: list[Any] = [
    "", "Acme", "0123456789", "01234567890", "ölwerk", "Hot", "Cold", "a@b.co", "not mail",
    "12", " 12 ", "12.5", "1e3", "-0", "99999999", "100000000", "1e300", "nan", "inf", "-inf",
    "x", "0x10", "1_000", "true", "False", "2026-12-04", "2026-13-01",
    "001000000000000AAA", "001000000000000", 12, 12.5, True, False, [1], {"a": 1},
]


def outcome(call: Any) -> Any:
    try:
        value = call()
    except ApiError as exc:
        return ("error", exc.error_code, exc.message, exc.fields)
    return ("value", type(value), value)


@pytest.mark.parametrize("f", FIELDS, ids=[f.type + ":" + f.name for f in FIELDS])
def test_converter_gives_what_to_storage_gives(f: FieldDef) -> None:
    convert = converter(f, ("001",) if f.type == "reference" else ())
    for value in VALUES:
        expected = outcome(lambda v=value: to_storage(f, v, ("001",) if f.type == "reference"
                                                      else ()))
        got = outcome(lambda v=value: convert(v))
        if expected[0] == "value" and isinstance(expected[2], float) and expected[2] != \
                expected[2]:
            assert got[0] == "value" and got[2] != got[2]
            continue
        assert got == expected, (f.name, value)
