"""Database errors never carry bound values (record data, digests) into logs (issue #21)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from localforce.storage.sql.engine import make_engine

SECRET_VALUE = "4111-1111-1111-1111"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_a_failed_statement_does_not_print_its_parameters(backend, tmp_path, request) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}" if backend == "sqlite" else \
        request.getfixturevalue("pg_database")
    engine = make_engine(url)
    try:
        with engine.begin() as conn, pytest.raises(StatementError) as caught:
            conn.execute(text("INSERT INTO no_such_table (v) VALUES (:v)"), {"v": SECRET_VALUE})
        assert SECRET_VALUE not in str(caught.value)
        assert "hidden due to hide_parameters" in str(caught.value)
    finally:
        engine.dispose()
