"""GrantStore contract (codes, device codes, consents, browser sessions) on SQLite + PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from localforce.bootstrap import Services
from localforce.oauth.artifacts import (
    AuthorizationCode,
    Consent,
    DeviceAuthorization,
    DeviceStatus,
    LoginSession,
)
from localforce.storage.sql import tables as t
from localforce.storage.sql.grant_store import SqlGrantStore


@pytest.fixture
def store(svc: Services) -> SqlGrantStore:
    return SqlGrantStore(svc.engine)


@pytest.fixture
def user_and_app(svc: Services) -> tuple[str, str]:
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "a@acme.test", "pw", "Standard User")
    app = svc.directory.store.find_app(org.id, "PlatformCLI")
    assert app is not None
    return user.id, app.id


def code(digest: str = "d" * 64, **values: object) -> AuthorizationCode:
    fields: dict[str, object] = dict(
        digest=digest, app_id="0H4000000000001AAA", user_id="005000000000001AAA",
        redirect_uri="https://app.test/cb", scopes=("api", "refresh_token"),
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256", nonce=None, family_id="f" * 32, issued_at=100,
        expires_at=1000)
    fields.update(values)
    return AuthorizationCode(**fields)  # type: ignore[arg-type]


def device(digest: str = "e" * 64, user_code: str = "ABCD2345") -> DeviceAuthorization:
    return DeviceAuthorization(digest, user_code, "0H4000000000001AAA", ("api",),
                               DeviceStatus.PENDING, None, 5, 100, 700)


def test_a_saved_code_reads_back_whole(store: SqlGrantStore) -> None:
    store.save_code(code())
    assert store.get_code("d" * 64) == code()
    assert store.get_code("0" * 64) is None


def test_a_code_is_consumed_once(store: SqlGrantStore) -> None:
    store.save_code(code())
    assert store.consume_code("d" * 64, 200) == code(consumed_at=200)
    assert store.consume_code("d" * 64, 201) is None
    assert store.get_code("d" * 64) == code(consumed_at=200)


def test_consuming_an_unknown_code_is_none(store: SqlGrantStore) -> None:
    assert store.consume_code("0" * 64, 200) is None


def test_device_codes_round_trip_and_user_codes_are_unique(store: SqlGrantStore) -> None:
    assert store.save_device(device())
    assert not store.save_device(device(digest="9" * 64))  # same user code
    assert store.get_device("e" * 64) == device()
    assert store.find_by_user_code("ABCD2345") == device()
    assert store.find_by_user_code("ZZZZ2345") is None


def test_polls_are_recorded_with_the_interval(store: SqlGrantStore) -> None:
    store.save_device(device())
    store.record_poll("e" * 64, 150, 10)
    found = store.get_device("e" * 64)
    assert found is not None and (found.last_polled_at, found.interval) == (150, 10)


def test_a_device_code_is_decided_once_then_consumed_once(store: SqlGrantStore) -> None:
    store.save_device(device())
    assert not store.consume_device("e" * 64)  # still pending
    assert store.decide("e" * 64, "005000000000001AAA", approve=True)
    assert not store.decide("e" * 64, "005000000000002AAA", approve=False)
    found = store.get_device("e" * 64)
    assert found is not None
    assert (found.status, found.user_id) == (DeviceStatus.APPROVED, "005000000000001AAA")
    assert store.consume_device("e" * 64)
    assert not store.consume_device("e" * 64)


def test_a_denied_device_code_cannot_be_consumed(store: SqlGrantStore) -> None:
    store.save_device(device())
    assert store.decide("e" * 64, "005000000000001AAA", approve=False)
    assert not store.consume_device("e" * 64)


def test_consents_are_listed_per_user(
        store: SqlGrantStore, svc: Services, user_and_app: tuple[str, str]) -> None:
    user_id, app_id = user_and_app
    assert store.list_consents(user_id) == []
    with svc.engine.begin() as c:
        c.execute(insert(t.consents).values(user_id=user_id, app_id=app_id, scopes="api web",
                                            granted_at=100))
    assert store.list_consents(user_id) == [Consent(user_id, app_id, ("api", "web"), 100)]


def test_sessions_are_saved_and_deleted(
        store: SqlGrantStore, user_and_app: tuple[str, str], svc: Services) -> None:
    user_id, _ = user_and_app
    org_id = svc.directory.store.get_user(user_id).org_id  # type: ignore[union-attr]
    session = LoginSession("s" * 64, user_id, org_id, 100, 7300)
    store.save_session(session)
    assert store.get_session("s" * 64) == session
    store.delete_session("s" * 64)
    assert store.get_session("s" * 64) is None


def test_a_pushed_request_is_consumed_once_by_its_own_app_before_it_expires(
        store: SqlGrantStore) -> None:
    from localforce.oauth.artifacts import PushedRequest

    params = (("response_type", "code"), ("client_id", "3MVG9x"), ("state", "é&="))
    store.save_pushed(PushedRequest("p" * 64, "0H4000000000001AAA", params, 260))
    store.save_pushed(PushedRequest("q" * 64, "0H4000000000001AAA", params, 260))
    assert store.consume_pushed("p" * 64, "0H4000000000002AAA", 200) is None  # another app's
    assert store.consume_pushed("p" * 64, "0H4000000000001AAA", 200) == dict(params)
    assert store.consume_pushed("p" * 64, "0H4000000000001AAA", 201) is None  # used
    assert store.consume_pushed("q" * 64, "0H4000000000001AAA", 260) is None  # expired
    assert store.consume_pushed("0" * 64, "0H4000000000001AAA", 200) is None  # unknown
    assert store.purge(261) >= 2
