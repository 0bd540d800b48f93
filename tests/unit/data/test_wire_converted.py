"""``values.WIRE_CONVERTED`` names every field type whose stored value ``to_wire`` changes: the
flat shaping of a query (data/query.py) converts only the fields of those types and passes the
rest as stored, so a conversion added to ``to_wire`` for a type not named there would be
skipped on that path."""

from __future__ import annotations

import pytest

from localforce.data.custom import TYPES
from localforce.data.schema import FieldDef, standard_objects
from localforce.data.values import WIRE_CONVERTED, to_wire

#: Every field type an object may have: the standard objects' and the custom fields'.
KNOWN = {f.type for obj in standard_objects() for f in obj.fields} | set(TYPES.values())
ALL_TYPES = sorted(KNOWN | WIRE_CONVERTED)


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_a_type_not_named_passes_its_value_as_stored(kind: str) -> None:
    stored = object()  # no conversion could answer this very object
    field = FieldDef("Field__c", kind, {})
    if kind in WIRE_CONVERTED:
        try:
            assert to_wire(field, stored) is not stored
        except (TypeError, ValueError):
            pass  # converted: float(), int() refuse it
    else:
        assert to_wire(field, stored) is stored


def test_the_named_types_are_field_types() -> None:
    """A misspelt name would leave its type unconverted on the flat path."""
    assert WIRE_CONVERTED - KNOWN == {"long"}  # to_wire's own, for a stored 64-bit integer
