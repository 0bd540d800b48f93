"""Signing keys (RS256) of id_tokens and JWT access tokens, and the JWKS at /id/keys
(salesforce-wire.md §1.2).

Private keys are stored sealed under the master key. Rotation publishes the next key *before*
it signs anything (``active_from`` in the future) so that relying parties that cache the JWKS
already know it, and keeps the old key published until the last token it signed has expired
(``retire_after``): an id_token lives ``token_ttl``, an RFC 9068 access token as long as its
session, at most ``LONGEST_SESSION``. The newest key whose ``active_from`` has passed signs.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from localforce import caching
from localforce.domain.models import SESSION_TIMEOUTS
from localforce.oauth.ports import SigningKeyRecord, SigningKeyStore
from localforce.security.secretbox import SecretBox

#: How long a process trusts its cached key list; rotation publishes ahead by far more.
CACHE_SECONDS = 60
#: The longest session timeout an org may set: how long a JWT access token may live.
LONGEST_SESSION = max(SESSION_TIMEOUTS) * 60


class KeyRing:
    def __init__(self, store: SigningKeyStore, box: SecretBox, clock: Callable[[], float], *,
                 token_ttl: int = 300) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._cached: list[SigningKeyRecord] | None = None
        self._cached_at = 0.0
        self._private: dict[str, RSAKey] = {}
        caching.holds_facts(self)

    # -- reading ----------------------------------------------------------------------------

    def _keys(self) -> list[SigningKeyRecord]:
        now = self._clock()
        with self._lock:
            if self._cached is None or now - self._cached_at >= CACHE_SECONDS:
                self._cached, self._cached_at = self._store.list_keys(), now
            return self._cached

    def _forget(self) -> None:
        with self._lock:
            self._cached = None

    def clear(self) -> None:
        """Another process rotated (``caching.apply``)."""
        self._forget()

    def forget(self, key: str) -> None:
        """No key here depends on one token (``caching.Facts``)."""

    def published(self) -> list[SigningKeyRecord]:
        now = int(self._clock())
        return [k for k in self._keys() if k.retire_after is None or k.retire_after > now]

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [{"kty","n","e","alg","use","kid"}]}``; the active key, any next key,
        and retiring keys whose tokens may still be in use."""
        return {"keys": [dict(k.public_jwk) for k in self.published()]}

    def current(self) -> SigningKeyRecord:
        """The key that signs now; creates the first one on an empty store."""
        now = int(self._clock())
        active = [k for k in self.published() if k.active_from <= now]
        if not active:
            self._create(active_from=now)
            self._forget()
            active = [k for k in self.published() if k.active_from <= now]
        return max(active, key=lambda k: (k.active_from, k.kid))

    def sign(self, claims: dict[str, Any], typ: str = "JWT") -> str:
        """RS256 by the current key; ``typ`` the JOSE header's (RFC 9068 §2.1: ``at+jwt``)."""
        record = self.current()
        key = self._private.get(record.kid)
        if key is None:
            key = RSAKey.import_key(self._box.open(record.private_key_sealed, record.kid))
            self._private[record.kid] = key
        return jwt.encode({"alg": "RS256", "typ": typ, "kid": record.kid}, claims, key)

    # -- rotation ---------------------------------------------------------------------------

    def rotate(self, publish_ahead: int = 86400) -> SigningKeyRecord:
        """Publish a new key now that starts signing ``publish_ahead`` seconds from now; the
        keys it replaces retire once the last token they could sign has expired (a JWT
        access token signed just before the switch lives as long as its session)."""
        now = int(self._clock())
        new = self._create(active_from=now + publish_ahead)
        last = new.active_from + max(self.token_ttl, LONGEST_SESSION)
        for old in self._store.list_keys():
            if old.kid != new.kid and old.retire_after is None:
                self._store.retire_key(old.kid, last)
        self._store.delete_keys_retired_before(now)
        self._forget()
        caching.announce()
        return new

    def rotate_if_due(self, every: int, publish_ahead: int) -> SigningKeyRecord | None:
        """Scheduled rotation (oauth/maintenance.py): once the signing key has signed for
        ``every - publish_ahead`` seconds, publish its successor to start signing
        ``publish_ahead`` seconds later. Nothing while a successor is already published, nor
        before the first key exists (the first signature creates it)."""
        now = int(self._clock())
        unretired = [k for k in self._store.list_keys() if k.retire_after is None]
        if not unretired or any(k.active_from > now for k in unretired):
            return None
        signing = max(unretired, key=lambda k: (k.active_from, k.kid))
        if now < signing.active_from + every - publish_ahead:
            return None
        return self.rotate(publish_ahead)

    def retire_expired(self) -> int:
        """Delete the keys whose last id_token has expired (``retire_after`` passed; every
        process already stopped publishing them then, so nobody needs telling)."""
        done = self._store.delete_keys_retired_before(int(self._clock()))
        if done:
            self._forget()
        return done

    def _create(self, active_from: int) -> SigningKeyRecord:
        key = RSAKey.generate_key(2048)
        kid = str(secrets.randbelow(10**9))
        public = {**key.as_dict(private=False), "alg": "RS256", "use": "sig", "kid": kid}
        pem = key.as_pem(private=True).decode()
        record = SigningKeyRecord(kid, self._box.seal(pem, kid), public,
                                  int(self._clock()), active_from)
        self._store.add_key(record)
        self._private[kid] = key
        return record
