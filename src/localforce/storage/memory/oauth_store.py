"""The OAuth ports (``oauth.ports``) in memory: tokens, consents, JWT ids, signing keys and
LoginHistory, with the SQL stores' rules (storage/sql/oauth_store.py) in one process. Each
verb that must be atomic runs under the store's lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from localforce import caching
from localforce.domain import ids
from localforce.oauth.ports import LoginAttempt, SigningKeyRecord, TokenRecord


class MemoryTokenStore:
    def __init__(self) -> None:
        self._rows: dict[str, TokenRecord] = {}
        self._lock = threading.Lock()

    def add(self, record: TokenRecord) -> None:
        with self._lock:
            if record.digest in self._rows:
                raise ValueError("a token digest is stored once")
            self._rows[record.digest] = record

    def find(self, digest: str) -> TokenRecord | None:
        return self._rows.get(digest)

    def touch(self, digest: str, now: int) -> None:
        with self._lock:
            found = self._rows.get(digest)
            if found is not None:
                self._rows[digest] = replace(found, last_used_at=now)

    def mark_rotated(self, digest: str, now: int) -> bool:
        with self._lock:
            found = self._rows.get(digest)
            if found is None or found.revoked_at is not None or found.rotated_at is not None:
                return False
            self._rows[digest] = replace(found, rotated_at=now)
            return True

    def revoke(self, digest: str, now: int) -> bool:
        with self._lock:
            found = self._rows.get(digest)
            done = found is not None and found.revoked_at is None
            if found is not None and done:
                self._rows[digest] = replace(found, revoked_at=now)
        caching.changed(digest)
        return done

    def revoke_family(self, family_id: str, now: int) -> int:
        return self._revoke_where(lambda r: r.family_id == family_id, now)

    def revoke_for(self, user_id: str, app_id: str | None, now: int) -> int:
        return self._revoke_where(
            lambda r: r.user_id == user_id and (app_id is None or r.app_id == app_id), now)

    def _revoke_where(self, matches: Callable[[TokenRecord], bool], now: int) -> int:
        with self._lock:
            hits = [r for r in self._rows.values() if r.revoked_at is None and matches(r)]
            for r in hits:
                self._rows[r.digest] = replace(r, revoked_at=now)
        if hits:
            caching.changed()
        return len(hits)

    def purge(self, before: int) -> int:
        def dead(r: TokenRecord) -> bool:
            return any(end is not None and end < before for end in (
                r.revoked_at, r.rotated_at, r.expires_at,
                None if r.idle_timeout is None else r.last_used_at + r.idle_timeout))

        with self._lock:
            gone = [d for d, r in self._rows.items() if dead(r)]
            for digest in gone:
                del self._rows[digest]
        return len(gone)


class MemoryConsentStore:
    def __init__(self) -> None:
        self._scopes: dict[tuple[str, str], tuple[str, ...]] = {}

    def find_consent(self, user_id: str, app_id: str) -> tuple[str, ...] | None:
        return self._scopes.get((user_id, app_id))

    def save_consent(self, user_id: str, app_id: str, scopes: tuple[str, ...], now: int) -> None:
        self._scopes[user_id, app_id] = tuple(scopes)

    def delete_consent(self, user_id: str, app_id: str) -> None:
        self._scopes.pop((user_id, app_id), None)


class MemoryReplayStore:
    def __init__(self) -> None:
        self._until: dict[str, int] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        with self._lock:
            held = self._until.get(key)
            if held is not None and held > now:
                return False
            self._until[key] = expires_at
            return True

    def purge(self, before: int) -> int:
        with self._lock:
            gone = [k for k, until in self._until.items() if until < before]
            for key in gone:
                del self._until[key]
        return len(gone)


class MemorySigningKeyStore:
    def __init__(self) -> None:
        self._keys: dict[str, SigningKeyRecord] = {}

    def list_keys(self) -> list[SigningKeyRecord]:
        return sorted(self._keys.values(), key=lambda k: (k.active_from, k.kid))

    def add_key(self, record: SigningKeyRecord) -> None:
        self._keys[record.kid] = record

    def retire_key(self, kid: str, retire_after: int) -> None:
        if kid in self._keys:
            self._keys[kid] = replace(self._keys[kid], retire_after=retire_after)

    def delete_keys_retired_before(self, now: int) -> int:
        gone = [k.kid for k in self._keys.values()
                if k.retire_after is not None and k.retire_after < now]
        for kid in gone:
            del self._keys[kid]
        return len(gone)


class MemoryLoginHistory:
    def __init__(self) -> None:
        #: (LoginHistory Id, attempt), oldest first.
        self.rows: list[tuple[str, LoginAttempt]] = []

    def record(self, attempt: LoginAttempt) -> str:
        row_id = ids.new_id(ids.KEY_PREFIXES["LoginHistory"])
        self.rows.append((row_id, attempt))
        return row_id
