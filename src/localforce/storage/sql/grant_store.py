"""GrantStore on SQL: authorization codes, device codes, consents and browser sessions.

Single-use semantics are conditional UPDATEs (``... WHERE consumed_at IS NULL``): the row count
says who won, so two concurrent redemptions of one code cannot both succeed, on SQLite or
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from localforce.oauth.artifacts import (
    AuthorizationCode,
    Consent,
    DeviceAuthorization,
    DeviceStatus,
    LoginSession,
    PushedRequest,
)
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import reader


def _scopes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


class SqlGrantStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = reader(engine)

    def _one(self, statement: Any) -> Mapping[Any, Any] | None:
        with self._read.connect() as c:
            return c.execute(statement).mappings().first()

    def _write(self, statement: Any) -> int:
        with self._engine.begin() as c:
            return int(c.execute(statement).rowcount)

    # -- authorization codes --------------------------------------------------------------

    def save_code(self, code: AuthorizationCode) -> None:
        self._write(insert(t.auth_codes).values(
            digest=code.digest, app_id=code.app_id, user_id=code.user_id,
            redirect_uri=code.redirect_uri, scopes=" ".join(code.scopes),
            code_challenge=code.code_challenge, code_challenge_method=code.code_challenge_method,
            nonce=code.nonce, family_id=code.family_id, issued_at=code.issued_at,
            expires_at=code.expires_at, consumed_at=code.consumed_at))

    def get_code(self, digest: str) -> AuthorizationCode | None:
        row = self._one(select(t.auth_codes).where(t.auth_codes.c.digest == digest))
        return _code(row) if row else None

    def consume_code(self, digest: str, now: int) -> AuthorizationCode | None:
        codes = t.auth_codes
        with self._engine.begin() as c:
            won = c.execute(update(codes).where(codes.c.digest == digest,
                                                codes.c.consumed_at.is_(None))
                            .values(consumed_at=now)).rowcount
            row = c.execute(select(codes).where(codes.c.digest == digest)).mappings().first()
        return _code(row) if won and row else None

    # -- pushed authorization requests (RFC 9126) ------------------------------------------

    def save_pushed(self, pushed: PushedRequest) -> None:
        self._write(insert(t.pushed_requests).values(
            digest=pushed.digest, app_id=pushed.app_id, params=dict(pushed.params),
            expires_at=pushed.expires_at))

    def consume_pushed(self, digest: str, app_id: str, now: int) -> dict[str, str] | None:
        pushed = t.pushed_requests
        with self._engine.begin() as c:
            won = c.execute(update(pushed).where(
                pushed.c.digest == digest, pushed.c.app_id == app_id,
                pushed.c.consumed_at.is_(None), pushed.c.expires_at > now)
                .values(consumed_at=now)).rowcount
            row = c.execute(select(pushed.c.params).where(pushed.c.digest == digest)).first()
        return {str(k): str(v) for k, v in row[0].items()} if won and row else None

    # -- device codes ---------------------------------------------------------------------

    def save_device(self, device: DeviceAuthorization) -> bool:
        try:
            self._write(insert(t.device_codes).values(
                digest=device.digest, user_code=device.user_code, app_id=device.app_id,
                scopes=" ".join(device.scopes), status=device.status.value,
                user_id=device.user_id, interval=device.interval, issued_at=device.issued_at,
                expires_at=device.expires_at, last_polled_at=device.last_polled_at))
        except IntegrityError:
            return False
        return True

    def get_device(self, digest: str) -> DeviceAuthorization | None:
        row = self._one(select(t.device_codes).where(t.device_codes.c.digest == digest))
        return _device(row) if row else None

    def find_by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        row = self._one(select(t.device_codes).where(t.device_codes.c.user_code == user_code))
        return _device(row) if row else None

    def record_poll(self, digest: str, now: int, interval: int) -> None:
        self._write(update(t.device_codes).where(t.device_codes.c.digest == digest)
                    .values(last_polled_at=now, interval=interval))

    def decide(self, digest: str, user_id: str, approve: bool) -> bool:
        status = DeviceStatus.APPROVED if approve else DeviceStatus.DENIED
        return self._move(digest, DeviceStatus.PENDING, status, user_id=user_id)

    def consume_device(self, digest: str) -> bool:
        return self._move(digest, DeviceStatus.APPROVED, DeviceStatus.CONSUMED)

    def _move(self, digest: str, old: DeviceStatus, new: DeviceStatus, **values: Any) -> bool:
        devices = t.device_codes
        return self._write(update(devices).where(devices.c.digest == digest,
                                                 devices.c.status == old.value)
                           .values(status=new.value, **values)) == 1

    # -- consents -------------------------------------------------------------------------

    def list_consents(self, user_id: str) -> list[Consent]:
        with self._read.connect() as c:
            rows = c.execute(select(t.consents).where(t.consents.c.user_id == user_id)
                             .order_by(t.consents.c.granted_at)).mappings().all()
        return [_consent(r) for r in rows]

    # -- browser sessions -----------------------------------------------------------------

    def save_session(self, session: LoginSession) -> None:
        self._write(insert(t.browser_sessions).values(
            digest=session.digest, user_id=session.user_id, org_id=session.org_id,
            auth_time=session.auth_time, expires_at=session.expires_at))

    def get_session(self, digest: str) -> LoginSession | None:
        row = self._one(select(t.browser_sessions).where(t.browser_sessions.c.digest == digest))
        return LoginSession(**row) if row else None

    def delete_session(self, digest: str) -> None:
        self._write(delete(t.browser_sessions).where(t.browser_sessions.c.digest == digest))

    # -- housekeeping ---------------------------------------------------------------------

    def purge(self, before: int) -> int:
        """Delete codes, device codes, pushed requests and browser sessions that expired
        before ``before``."""
        return sum(self._write(delete(table).where(table.c.expires_at < before))
                   for table in (t.auth_codes, t.device_codes, t.browser_sessions,
                                 t.pushed_requests))


def _code(row: Mapping[Any, Any]) -> AuthorizationCode:
    return AuthorizationCode(**{**row, "scopes": _scopes(row["scopes"])})


def _device(row: Mapping[Any, Any]) -> DeviceAuthorization:
    return DeviceAuthorization(**{**row, "scopes": _scopes(row["scopes"]),
                                  "status": DeviceStatus(row["status"])})


def _consent(row: Mapping[Any, Any]) -> Consent:
    return Consent(**{**row, "scopes": _scopes(row["scopes"])})
