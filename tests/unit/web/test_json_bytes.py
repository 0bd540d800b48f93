"""Every answer's JSON is byte for byte what ``json.dumps`` (Starlette's JSONResponse) writes,
whichever encoder made it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from localforce.data.values import FloatFree
from localforce.web import errors
from localforce.web.errors import json_bytes

float_free_scalars = st.none() | st.booleans() | st.integers() | st.text()
float_free = st.dictionaries(st.text(), st.recursive(
    float_free_scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20), max_size=4)
scalars = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


def reference(content: object) -> bytes:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


@given(values)
def test_the_same_bytes_as_the_standard_library(content: object) -> None:
    assert json_bytes(content) == reference(content)


def test_the_spellings_orjson_would_change() -> None:
    for content in (1e-05, 1e16, -6.8e-05, 2**70, {1: "int key"}, [1.5e300, "0.00001"],
                    0.0, 1e-4, 9.99e-05, 1e15, 999999999999999.9, 5e-324,
                    {"records": ({"a": [{"b": (1, 1e-7)}]},)}):
        assert json_bytes(content) == reference(content)


def test_nan_and_infinity_are_null_as_orjson_writes_them() -> None:
    assert json_bytes({"a": [float("nan"), float("inf"), -float("inf")]}) == \
        b'{"a":[null,null,null]}'


@given(float_free)
def test_an_answer_said_float_free_is_the_same_bytes_too(content: dict[str, object]) -> None:
    assert json_bytes(FloatFree(content)) == reference(content)


def test_an_answer_said_float_free_is_not_walked_for_floats(monkeypatch) -> None:
    def walked(_content: object) -> bool:
        raise AssertionError("walked")

    monkeypatch.setattr(errors, "_same_floats", walked)
    records = [{"attributes": {"type": "Account"}, "Name": "Acme"}]
    assert json_bytes(FloatFree(totalSize=1, done=True, records=records)) == \
        reference({"totalSize": 1, "done": True, "records": records})
