"""OAuth ports contract (tokens, consents, JWT replay, signing keys, login history) on SQLite,
PostgreSQL and in memory (storage/memory: the proof that the stores swap)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select

from localforce.bootstrap import Services
from localforce.oauth.ports import (
    ACCESS,
    REFRESH,
    ConsentStore,
    LoginAttempt,
    ReplayStore,
    SigningKeyRecord,
    SigningKeyStore,
    TokenRecord,
    TokenStore,
)
from localforce.storage.memory.oauth_store import (
    MemoryConsentStore,
    MemoryLoginHistory,
    MemoryReplayStore,
    MemorySigningKeyStore,
    MemoryTokenStore,
)
from localforce.storage.sql import tables as t
from localforce.storage.sql.oauth_store import (
    SqlConsentStore,
    SqlLoginHistory,
    SqlReplayStore,
    SqlSigningKeyStore,
    SqlTokenStore,
)

NOW = 1_790_000_000


@dataclass
class Stores:
    tokens: TokenStore
    consents: ConsentStore
    replay: ReplayStore
    keys: SigningKeyStore


@pytest.fixture(params=["sql", "memory"])
def stores(request: pytest.FixtureRequest, svc: Services) -> Iterator[Stores]:
    """The same contract on the SQL stores (SQLite and PostgreSQL, as ``svc``) and in memory."""
    if request.param == "memory":
        yield Stores(MemoryTokenStore(), MemoryConsentStore(), MemoryReplayStore(),
                     MemorySigningKeyStore())
    else:
        yield Stores(SqlTokenStore(svc.engine, svc.writes), SqlConsentStore(svc.engine),
                     SqlReplayStore(svc.engine), SqlSigningKeyStore(svc.engine))


def record(ids: tuple[str, str, str], digest: str, kind: str = ACCESS, family: str = "f1",
           **extra: object) -> TokenRecord:
    org, user, app = ids
    return TokenRecord(digest, kind, org, user, app, ("api", "id"), family, "password", NOW, NOW,
                       **extra)  # type: ignore[arg-type]


class TestTokens:
    def test_add_find_touch(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "a" * 64, idle_timeout=7200, parent_digest="p" * 64))
        found = store.find("a" * 64)
        assert found == record(ids, "a" * 64, idle_timeout=7200, parent_digest="p" * 64)
        store.touch("a" * 64, NOW + 50)
        assert store.find("a" * 64).last_used_at == NOW + 50  # type: ignore[union-attr]
        assert store.find("b" * 64) is None

    def test_a_dpop_binding_is_kept(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "d" * 64, jkt="k" * 43))
        assert store.find("d" * 64) == record(ids, "d" * 64, jkt="k" * 43)
        store.add(record(ids, "e" * 64))
        assert store.find("e" * 64).jkt is None  # type: ignore[union-attr]

    def test_a_token_exchange_actor_is_kept(self, stores: Stores,
                                            ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "f" * 64, act="3MVG9" + "x" * 80))
        assert store.find("f" * 64) == record(ids, "f" * 64, act="3MVG9" + "x" * 80)
        store.add(record(ids, "9" * 64))
        assert store.find("9" * 64).act is None  # type: ignore[union-attr]

    def test_revoke_one_and_family(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        for digest, family in (("a", "f1"), ("b", "f1"), ("c", "f2")):
            store.add(record(ids, digest * 64, family=family))
        assert store.revoke("a" * 64, NOW) is True
        assert store.revoke("a" * 64, NOW) is False
        assert store.revoke_family("f1", NOW + 1) == 1
        assert store.find("b" * 64).revoked_at == NOW + 1  # type: ignore[union-attr]
        assert store.find("c" * 64).revoked_at is None  # type: ignore[union-attr]

    def test_revoke_for_user_and_app(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "a" * 64))
        store.add(replace(record(ids, "b" * 64), app_id=None))
        assert store.revoke_for(ids[1], ids[2], NOW) == 1
        assert store.revoke_for(ids[1], None, NOW) == 1

    def test_mark_rotated_is_one_shot(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "r" * 64, REFRESH))
        assert store.mark_rotated("r" * 64, NOW) is True
        assert store.mark_rotated("r" * 64, NOW) is False
        store.add(record(ids, "s" * 64, REFRESH))
        store.revoke("s" * 64, NOW)
        assert store.mark_rotated("s" * 64, NOW) is False

    def test_purge_dead_rows(self, stores: Stores, ids: tuple[str, str, str]) -> None:
        store = stores.tokens
        store.add(record(ids, "a" * 64, idle_timeout=10))
        store.add(record(ids, "b" * 64, expires_at=NOW + 10))
        store.add(record(ids, "c" * 64))
        assert store.purge(NOW + 100) == 2
        assert store.find("c" * 64) is not None


def test_consents(stores: Stores, ids: tuple[str, str, str]) -> None:
    store = stores.consents
    _, user, app = ids
    assert store.find_consent(user, app) is None
    store.save_consent(user, app, ("api", "id"), NOW)
    store.save_consent(user, app, ("api", "refresh_token"), NOW + 1)
    assert store.find_consent(user, app) == ("api", "refresh_token")
    store.delete_consent(user, app)
    assert store.find_consent(user, app) is None


def test_replay(stores: Stores) -> None:
    store = stores.replay
    assert store.remember("k" * 64, NOW + 60, NOW) is True
    assert store.remember("k" * 64, NOW + 60, NOW + 30) is False
    assert store.remember("k" * 64, NOW + 200, NOW + 60) is True  # expired entry reusable


def test_signing_keys(stores: Stores) -> None:
    store = stores.keys
    jwk = {"kty": "RSA", "n": "x", "e": "AQAB", "kid": "2"}
    store.add_key(SigningKeyRecord("2", "v1:sealed", jwk, NOW, NOW + 10))
    store.add_key(SigningKeyRecord("1", "v1:sealed", {**jwk, "kid": "1"}, NOW, NOW))
    assert [k.kid for k in store.list_keys()] == ["1", "2"]
    assert store.list_keys()[1].public_jwk == jwk
    store.retire_key("1", NOW + 5)
    assert store.delete_keys_retired_before(NOW + 5) == 0
    assert store.delete_keys_retired_before(NOW + 6) == 1
    assert [k.kid for k in store.list_keys()] == ["2"]


def test_login_history(svc: Services, ids: tuple[str, str, str]) -> None:
    store = SqlLoginHistory(svc.engine, svc.writes)
    row_id = store.record(LoginAttempt(NOW * 1000, "Remote Access 2.0", "Success",
                                       username="a@acme.test", org_id=ids[0], user_id=ids[1],
                                       source_ip="127.0.0.1", application="PlatformCLI",
                                       app_id=ids[2], login_url="http://x/services/oauth2/token"))
    assert row_id.startswith("0Ya") and len(row_id) == 18
    with svc.engine.connect() as c:
        row = c.execute(select(t.login_history)).mappings().one()
    assert (row["status"], row["login_time"], row["source_ip"]) == (
        "Success", NOW * 1000, "127.0.0.1")


def test_login_history_in_memory(ids: tuple[str, str, str]) -> None:
    store = MemoryLoginHistory()
    attempt = LoginAttempt(NOW * 1000, "Remote Access 2.0", "Success", username="a@acme.test",
                           org_id=ids[0], user_id=ids[1], source_ip="127.0.0.1")
    row_id = store.record(attempt)
    assert row_id.startswith("0Ya") and len(row_id) == 18
    assert store.rows == [(row_id, attempt)]
