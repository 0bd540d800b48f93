"""The audit store on SQLite and PostgreSQL: API usage log, app usage, login listings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from tests.conftest import FixedClock

from localforce.audit.ports import ApiCall, AppUser
from localforce.directory.service import Directory
from localforce.domain.models import ConnectedApp
from localforce.security.secretbox import SecretBox, generate_key
from localforce.storage.sql import tables as t
from localforce.storage.sql.audit_store import INSERT_ROWS, SqlApiCallLog, SqlAuditQueries
from localforce.storage.sql.directory_store import SqlDirectoryStore
from localforce.storage.sql.engine import make_engine, upgrade

NOW = 1_790_000_000


@pytest.fixture
def engine(database_url: str, home: Path) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def directory(engine: Engine) -> Directory:
    from localforce.security.secretbox import decode_key

    return Directory(SqlDirectoryStore(engine), SecretBox(decode_key(generate_key())),
                     FixedClock(NOW))


def _token(engine: Engine, digest: str, user_id: str, app_id: str, kind: str = "access",
           last_used: int = NOW - 10, **extra: object) -> None:
    with engine.begin() as c:
        c.execute(insert(t.tokens).values(
            digest=digest, kind=kind, org_id="00D", user_id=user_id, app_id=app_id,
            scopes="api", family_id="f" + digest, flow="password", issued_at=NOW - 100,
            last_used_at=last_used, **extra))


def test_api_calls_round_trip_oldest_first(engine: Engine) -> None:
    log = SqlApiCallLog(engine)
    calls = [ApiCall(NOW * 1000 + n, "00Dorg", "005u", "0H4a", "GET", f"/p/{n}", 200, 10 * n)
             for n in (3, 1, 2)]
    log.append(calls)
    log.append([ApiCall(NOW * 1000 + 5, "00Dother", None, None, "POST", "/x", 403, 1)])
    assert [c.path for c in log.calls(NOW * 1000 + 2, "00Dorg")] == ["/p/2", "/p/3"]
    assert len(list(log.calls(0))) == 4


@pytest.mark.parametrize("size", [1, INSERT_ROWS - 1, INSERT_ROWS * 5 // 2])
def test_a_batch_of_any_size_keeps_every_call_in_order(engine: Engine, size: int) -> None:
    """SQLite writes a batch as INSERTs of ``INSERT_ROWS`` rows, the rest in smaller ones: a
    batch of one row, of one less than an INSERT, of two and a half INSERTs comes back whole,
    each call as written, in order."""
    log = SqlApiCallLog(engine)
    calls = [ApiCall(NOW * 1000 + n, "00Dorg", f"005u{n}", None, "GET", f"/p/{n}", 200, n)
             for n in range(size)]
    log.append(calls)
    assert list(log.calls(0)) == calls


def test_the_log_keeps_every_field_as_written(engine: Engine) -> None:
    """PostgreSQL writes the batch by COPY: text that COPY's format escapes (tab, newline,
    backslash, ``\\N``) and absent ids come back as they went in; a path past 2,048
    characters is cut there."""
    log = SqlApiCallLog(engine)
    odd = "/services/data/v62.0/sobjects/Acc\tount\n\\N/ö€"
    calls = [ApiCall(NOW * 1000, "00Dorg", None, None, "PATCH", odd, 204, 2**40),
             ApiCall(NOW * 1000 + 1, None, "005u", "0H4a", "GET", "/" + "x" * 3000, 500, 0)]
    log.append(calls)
    assert list(log.calls(0)) == [calls[0], ApiCall(NOW * 1000 + 1, None, "005u", "0H4a", "GET",
                                                    "/" + "x" * 2047, 500, 0)]


def test_app_usage_lists_holders_of_live_tokens(engine: Engine, directory: Directory) -> None:
    org = directory.create_org("Acme")
    ann, _ = directory.create_user(org.id, "ann@acme.test", "pw-1234567", "Standard User")
    bob, _ = directory.create_user(org.id, "bob@acme.test", "pw-1234567", "Standard User")
    app = directory.create_app(ConnectedApp("0H4000000000001AAA", org.id, "Tool", ""), None)
    _token(engine, "a1", ann.id, app.id)
    _token(engine, "a2", ann.id, app.id, kind="refresh", last_used=NOW - 5)
    _token(engine, "a3", ann.id, app.id, revoked_at=NOW - 1)  # dead: revoked
    _token(engine, "b1", bob.id, app.id, last_used=NOW - 500, idle_timeout=100)  # idled out
    _token(engine, "b2", bob.id, app.id, kind="refresh", last_used=NOW - 50)
    _token(engine, "b3", bob.id, app.id, kind="refresh", expires_at=NOW)  # expired
    _token(engine, "o1", bob.id, "0H4000000000002AAA")  # another app
    assert SqlAuditQueries(engine).app_users(app.id, NOW) == [
        AppUser(ann.id, "ann@acme.test", 1, 1, NOW - 5),
        AppUser(bob.id, "bob@acme.test", 0, 1, NOW - 50),
    ]


def test_logins_newest_first_filtered_by_user(engine: Engine) -> None:
    with engine.begin() as c:
        for n, (user, status) in enumerate([("ann@acme.test", "Success"),
                                            ("bob@acme.test", "Invalid Password"),
                                            ("ANN@acme.test", "Password Lockout")]):
            c.execute(insert(t.login_history).values(
                id=f"0Ya00000000000{n}AAA", org_id="00Dorg", username=user,
                login_time=NOW * 1000 + n, login_type="Remote Access 2.0", status=status))
        c.execute(insert(t.login_history).values(
            id="0Ya000000000009AAA", org_id="00Delse", username="eve@else.test",
            login_time=NOW * 1000, login_type="Application", status="Success"))
    queries = SqlAuditQueries(engine)
    assert [e.status for e in queries.logins("00Dorg", 0)] == [
        "Password Lockout", "Invalid Password", "Success"]
    assert [e.status for e in queries.logins("00Dorg", 0, "ann@ACME.test")] == [
        "Password Lockout", "Success"]
    assert [e.status for e in queries.logins("00Dorg", NOW * 1000 + 1, limit=1)] == [
        "Password Lockout"]
