"""``data.query.parse_soql``: the per-process cache of parsed SOQL gives the parser's answer,
errors included, every time."""

from __future__ import annotations

import pytest

from localforce.data.query import PARSED_MAX_CHARS, parse_soql
from localforce.soql import SoqlError, parse


def test_a_repeated_query_gets_the_same_tree() -> None:
    text = "SELECT Id, Name FROM Account WHERE Name = 'Acme' LIMIT 5"
    assert parse_soql(text) == parse(text)
    assert parse_soql(text) is parse_soql(text)


def test_a_malformed_query_fails_every_time() -> None:
    for _ in range(2):
        with pytest.raises(SoqlError) as caught:
            parse_soql("SELECT FROM Account")
        assert caught.value.error_code == "MALFORMED_QUERY"


def test_long_statements_are_parsed_but_not_kept() -> None:
    text = "SELECT Id FROM Account WHERE Name IN (" + ", ".join(
        f"'name {i}'" for i in range(PARSED_MAX_CHARS // 8)) + ")"
    assert len(text) > PARSED_MAX_CHARS
    assert parse_soql(text) == parse(text)
    assert parse_soql(text) is not parse_soql(text)
