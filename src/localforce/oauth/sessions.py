"""Access token -> Principal: the check behind every data-API and identity call.

A token is good while it is known, of kind access, not revoked, and used within its app's
session timeout (Salesforce sessions expire on inactivity, salesforce-wire.md §7). Its user
must still be active. The data API also needs the ``api`` or ``full`` scope.

A per-process cache keeps a resolved principal for at most ``cache_seconds`` (default 1 s), so
a revocation on any replica is seen within a second even without Redis, at once with it
(``caching.announce``, DESIGN.md); last-use is written at most
every ``touch_every`` seconds per token to keep the hot path free of writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from localforce import caching
from localforce.directory.ports import AppLookup, UserLookup
from localforce.domain import scopes as scope_words
from localforce.domain.models import Access, User
from localforce.domain.principal import Principal
from localforce.oauth.ports import ACCESS, TokenRecord, TokenStore
from localforce.security.tokens import digest


class InvalidSession(Exception):
    """Missing, unknown, expired or revoked session; or one without the needed scope."""


class WrongBinding(InvalidSession):
    """A DPoP-bound token without a proof by its key, or a bearer token sent as DPoP."""


_MAX_CACHE = 10_000


class Sessions:
    """``users``, ``apps``: the directory's lookups; ``access_of(user)``: the user's flattened
    access (``credentials.user_access``)."""

    def __init__(self, tokens: TokenStore, users: UserLookup, apps: AppLookup,
                 access_of: Callable[[User], Access], clock: Callable[[], float], *,
                 cache_seconds: float | None = None, touch_every: int = 30) -> None:
        self._tokens = tokens
        self._users = users
        self._apps = apps
        self._access_of = access_of
        self._clock = clock
        self._cache_seconds = caching.freshness() if cache_seconds is None else cache_seconds
        self._touch_every = touch_every
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        caching.holds_facts(self)

    def resolve(self, token: str, *, require_api: bool = True,
                jkt: str | None = None) -> Principal:
        """The principal behind ``token``; raises ``InvalidSession``. ``jkt``: the key of
        the request's verified DPoP proof; a token is good only with the key it is bound to
        (a bearer token, only without one)."""
        principal = self._cached(digest(token)) or self._load(digest(token))
        if principal.jkt != jkt:
            raise WrongBinding("DPoP binding does not match")
        if require_api and not scope_words.allows_data_api(principal.scopes):
            raise InvalidSession("token lacks the api scope")
        return principal

    def forget(self, token_digest: str) -> None:
        """Drop a cached principal (this process revoked the token)."""
        with self._lock:
            self._cache.pop(token_digest, None)

    def forget_all(self) -> None:
        """Drop every cached principal (a test server's database was restored; a user, app
        or token family changed)."""
        with self._lock:
            self._cache.clear()

    clear = forget_all  # caching.Facts

    def _cached(self, key: str) -> Principal | None:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and self._clock() - hit[0] < self._cache_seconds:
            return hit[1]
        return None

    def _load(self, key: str) -> Principal:
        now = int(self._clock())
        record = self._tokens.find(key)
        if record is None or record.kind != ACCESS or not record.alive(now):
            raise InvalidSession("unknown, expired or revoked")
        principal = self._principal(record)
        if now - record.last_used_at >= self._touch_every:
            self._tokens.touch(key, now)
        with self._lock:
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
            self._cache[key] = (self._clock(), principal)
        return principal

    def _principal(self, record: TokenRecord) -> Principal:
        user = self._users.get_user(record.user_id)
        if user is None or not user.active:
            raise InvalidSession("user gone or inactive")
        app = self._apps.get_app(record.app_id) if record.app_id else None
        return Principal(org_id=record.org_id, user_id=record.user_id, username=user.username,
                         app_id=record.app_id, app_name=app.name if app else None,
                         scopes=record.scopes, access=self._access_of(user),
                         token_digest=record.digest, jkt=record.jkt)
