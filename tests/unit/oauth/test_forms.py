"""web/forms.py: HTTP Basic client credentials (RFC 6749 §2.3.1)."""

from __future__ import annotations

import base64

import pytest

from localforce.web.forms import basic_credentials


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(("header", "expected"), [
    (basic("3MVG9.key:s3cr3t"), ("3MVG9.key", "s3cr3t")),
    (basic("id:se%3Acret"), ("id", "se:cret")),           # form-encoded per RFC 6749
    (basic("id:with:colon"), ("id", "with:colon")),
    ("basic " + base64.b64encode(b"a:b").decode(), ("a", "b")),
    (basic("no-colon"), None), ("Basic !!!", None), ("Bearer abc", None), (None, None),
])
def test_basic_credentials(header: str | None, expected: tuple[str, str] | None) -> None:
    assert basic_credentials(header) == expected
