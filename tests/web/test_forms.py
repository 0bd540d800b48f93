"""``forms.urlencoded`` (the lean dispatcher's form parser) answers as Starlette's own parser,
python-multipart's ``QuerystringParser``, does for any body."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest
import python_multipart
from hypothesis import given, settings
from hypothesis import strategies as st

from localforce.oauth.errors import InvalidRequest
from localforce.web import forms


def starlettes(body: bytes) -> dict[str, str]:
    """What Starlette's ``FormParser`` makes of ``body``: the parser's fields, decoded."""
    out: dict[str, str] = {}
    name, value = bytearray(), bytearray()

    def start() -> None:
        name.clear()
        value.clear()

    def end() -> None:
        out[unquote_plus(name.decode("latin-1"))] = unquote_plus(value.decode("latin-1"))

    parser = python_multipart.QuerystringParser({
        "on_field_start": start, "on_field_end": end,
        "on_field_name": lambda data, a, b: name.extend(data[a:b]),
        "on_field_data": lambda data, a, b: value.extend(data[a:b])})
    parser.write(body)
    parser.finalize()
    return out


@pytest.mark.parametrize("body", [
    b"", b"&", b"&&", b"a", b"a=", b"=", b"=x", b"a=1&b=2", b"a=1&&b=2&", b"&a=1", b"a=1=2",
    b"a=1&a=2", b"a&b=2", b"grant_type=client_credentials&client_id=x%2By+z",
    b"n%C3%A9=%E9", b"a=%zz&b=%", b"x;y=1", b"a=1;b=2"])
def test_same_fields_as_starlette(body: bytes) -> None:
    assert forms.urlencoded(body) == starlettes(body)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=60) | st.text("ab=&%+;2Fé ", max_size=40).map(str.encode))
def test_same_fields_as_starlette_for_any_body(body: bytes) -> None:
    assert forms.urlencoded(body) == starlettes(body)


def test_more_fields_than_starlette_allows_is_refused() -> None:
    forms.urlencoded(b"&".join(b"f%d=1" % i for i in range(forms.MAX_FIELDS)))
    with pytest.raises(InvalidRequest) as refused:
        forms.urlencoded(b"&".join(b"f%d=1" % i for i in range(forms.MAX_FIELDS + 1)))
    assert refused.value.description == "Too many fields. Maximum number of fields is 1000."
