"""The OAuth ports on SQL: tokens, consents, JWT replay, signing keys, login history.

Hot paths (token lookup, touch) are prebuilt Core statements with bound parameters, built once
at import of this module (statements, not connections: nothing is opened at import).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from localforce import caching
from localforce.domain import ids
from localforce.oauth.ports import LoginAttempt, SigningKeyRecord, TokenRecord
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import reader, single_statement_reader
from localforce.storage.sql.group_commit import GroupCommit
from localforce.storage.sql.raw_reads import RawReads

_tk = t.tokens.c
# Inserts take their values as execute() parameters: ``.values(**row)`` built and coerced a
# bind parameter per column on every grant (its share of a grant's CPU: bench/README.md).
_INSERT_TOKEN = insert(t.tokens)
_INSERT_LOGIN = insert(t.login_history)
_FIND_TOKEN = select(t.tokens).where(_tk.digest == bindparam("digest"))
_TOUCH = (update(t.tokens).where(_tk.digest == bindparam("d"))
          .values(last_used_at=bindparam("now")))
_LIVE = and_(_tk.revoked_at.is_(None), _tk.rotated_at.is_(None))


def _token(row: Mapping[Any, Any]) -> TokenRecord:
    return TokenRecord(
        digest=row["digest"], kind=row["kind"], org_id=row["org_id"], user_id=row["user_id"],
        app_id=row["app_id"], scopes=tuple(row["scopes"].split()), family_id=row["family_id"],
        flow=row["flow"], issued_at=row["issued_at"], last_used_at=row["last_used_at"],
        idle_timeout=row["idle_timeout"], expires_at=row["expires_at"],
        parent_digest=row["parent_digest"], revoked_at=row["revoked_at"],
        rotated_at=row["rotated_at"], jkt=row["jkt"], act=row["act"])


#: Rows the token purge deletes per transaction.
PURGE_BATCH = 5000


class SqlTokenStore:
    def __init__(self, engine: Engine, writes: GroupCommit) -> None:
        self._engine = engine
        self._find = single_statement_reader(engine)  # every bearer request looks a token up
        self._raw = RawReads.for_engine(engine)
        self._writes = writes

    def add(self, record: TokenRecord) -> None:
        self._writes.append(_INSERT_TOKEN, dict(
            digest=record.digest, kind=record.kind, org_id=record.org_id,
            user_id=record.user_id, app_id=record.app_id, scopes=" ".join(record.scopes),
            family_id=record.family_id, parent_digest=record.parent_digest,
            flow=record.flow, issued_at=record.issued_at, expires_at=record.expires_at,
            last_used_at=record.last_used_at, idle_timeout=record.idle_timeout,
            revoked_at=record.revoked_at, rotated_at=record.rotated_at, jkt=record.jkt,
            act=record.act))

    def find(self, digest: str) -> TokenRecord | None:
        if self._raw is not None:  # every bearer request: straight through the DBAPI
            rows = self._raw.mappings(_FIND_TOKEN, {"digest": digest})
            if rows is not None:
                return _token(rows[0]) if rows else None
        with self._find.connect() as c:
            row = c.execute(_FIND_TOKEN, {"digest": digest}).mappings().first()
        return _token(row) if row else None

    def touch(self, digest: str, now: int) -> None:
        # By the group-commit writer: a bearer call never waits for SQLite's write lock to
        # note its token's use (commits.py, "calls made on the event loop").
        self._writes.append(_TOUCH, {"d": digest, "now": now})

    def mark_rotated(self, digest: str, now: int) -> bool:
        with self._engine.begin() as c:
            done = c.execute(update(t.tokens).where(_tk.digest == digest, _LIVE)
                             .values(rotated_at=now)).rowcount
        return bool(done)

    def revoke(self, digest: str, now: int) -> bool:
        with self._engine.begin() as c:
            done = c.execute(update(t.tokens).where(_tk.digest == digest,
                                                    _tk.revoked_at.is_(None))
                             .values(revoked_at=now)).rowcount
        caching.changed(digest)  # committed: every process drops the principal
        return bool(done)

    def revoke_family(self, family_id: str, now: int) -> int:
        return self._revoke_where(_tk.family_id == family_id, now)

    def revoke_for(self, user_id: str, app_id: str | None, now: int) -> int:
        condition = _tk.user_id == user_id
        if app_id is not None:
            condition = and_(condition, _tk.app_id == app_id)
        return self._revoke_where(condition, now)

    def _revoke_where(self, condition: Any, now: int) -> int:
        with self._engine.begin() as c:
            done = int(c.execute(update(t.tokens).where(condition, _tk.revoked_at.is_(None))
                                 .values(revoked_at=now)).rowcount)
        if done:
            caching.changed()  # which access tokens went is unknown here: drop every principal
        return done

    def purge(self, before: int, batch: int = PURGE_BATCH) -> int:
        """In transactions of ``batch`` rows: a backlog of 10^6 dead tokens never holds the
        write lock (SQLite) or one huge transaction (PostgreSQL) while grants wait."""
        dead = or_(_tk.revoked_at < before, _tk.rotated_at < before, _tk.expires_at < before,
                   and_(_tk.idle_timeout.is_not(None),
                        _tk.last_used_at + _tk.idle_timeout < before))
        some = select(_tk.digest).where(dead).limit(batch).scalar_subquery()
        total = 0
        while True:
            with self._engine.begin() as c:
                done = int(c.execute(delete(t.tokens).where(_tk.digest.in_(some))).rowcount)
            total += done
            if done < batch:
                return total


class SqlConsentStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = reader(engine)

    def find_consent(self, user_id: str, app_id: str) -> tuple[str, ...] | None:
        with self._read.connect() as c:
            scopes = c.execute(select(t.consents.c.scopes).where(
                t.consents.c.user_id == user_id, t.consents.c.app_id == app_id)).scalar()
        return tuple(scopes.split()) if scopes is not None else None

    def save_consent(self, user_id: str, app_id: str, scopes: tuple[str, ...], now: int) -> None:
        with self._engine.begin() as c:
            c.execute(delete(t.consents).where(t.consents.c.user_id == user_id,
                                               t.consents.c.app_id == app_id))
            c.execute(insert(t.consents).values(user_id=user_id, app_id=app_id,
                                                scopes=" ".join(scopes), granted_at=now))

    def delete_consent(self, user_id: str, app_id: str) -> None:
        with self._engine.begin() as c:
            c.execute(delete(t.consents).where(t.consents.c.user_id == user_id,
                                               t.consents.c.app_id == app_id))


class SqlReplayStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        replay = t.jwt_replay
        try:
            with self._engine.begin() as c:
                # An expired entry may be reused; then the insert below claims the key.
                c.execute(delete(replay).where(replay.c.key == key, replay.c.expires_at <= now))
                c.execute(insert(replay).values(key=key, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def purge(self, before: int) -> int:
        with self._engine.begin() as c:
            return int(c.execute(delete(t.jwt_replay)
                                 .where(t.jwt_replay.c.expires_at < before)).rowcount)


class SqlSigningKeyStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = reader(engine)

    def list_keys(self) -> list[SigningKeyRecord]:
        k = t.signing_keys.c
        with self._read.connect() as c:
            rows = c.execute(select(t.signing_keys).order_by(k.active_from, k.kid)).mappings()
            return [SigningKeyRecord(r["kid"], r["private_key_sealed"], dict(r["public_jwk"]),
                                     r["created_at"], r["active_from"], r["retire_after"])
                    for r in rows]

    def add_key(self, record: SigningKeyRecord) -> None:
        with self._engine.begin() as c:
            c.execute(insert(t.signing_keys).values(
                kid=record.kid, private_key_sealed=record.private_key_sealed,
                public_jwk=record.public_jwk, created_at=record.created_at,
                active_from=record.active_from, retire_after=record.retire_after))

    def retire_key(self, kid: str, retire_after: int) -> None:
        with self._engine.begin() as c:
            c.execute(update(t.signing_keys).where(t.signing_keys.c.kid == kid)
                      .values(retire_after=retire_after))

    def delete_keys_retired_before(self, now: int) -> int:
        k = t.signing_keys.c
        with self._engine.begin() as c:
            return int(c.execute(delete(t.signing_keys).where(
                k.retire_after.is_not(None), k.retire_after < now)).rowcount)


#: One after another, so the rows land at the end of the index on Id (domain/ids.py).
_LOGIN_IDS = ids.IdSequence(ids.KEY_PREFIXES["LoginHistory"])


class SqlLoginHistory:
    def __init__(self, engine: Engine, writes: GroupCommit) -> None:
        self._engine = engine
        self._writes = writes

    def record(self, attempt: LoginAttempt) -> str:
        row_id = _LOGIN_IDS.new_id()
        self._writes.append(_INSERT_LOGIN, dict(
            id=row_id, org_id=attempt.org_id, user_id=attempt.user_id,
            username=attempt.username, login_time=attempt.login_time_ms,
            login_type=attempt.login_type, source_ip=attempt.source_ip,
            status=attempt.status, application=attempt.application, app_id=attempt.app_id,
            browser=attempt.browser, platform=attempt.platform,
            login_url=(attempt.login_url or "")[:1024] or None,
            api_type=attempt.api_type, api_version=attempt.api_version))
        return row_id
