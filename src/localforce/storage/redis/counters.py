"""``limits.ports.Counters`` on Redis: one hash per key, ``{bucket: count}``.

A Lua script reads, prunes and increments in one step (Redis runs scripts atomically), so every
worker and replica sharing the Redis server sees one count and the limit is never overshot.
The hash expires one window after its last use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

from localforce.commits import may_wait
from localforce.limits.ports import Counters, Taken, Window

T = TypeVar("T")
log = logging.getLogger("localforce.redis")

_TAKE = """
local oldest, limit, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i]) < oldest then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
  end
end
if limit >= 0 and total + n > limit then
  return {0, total}
end
redis.call('HINCRBY', KEYS[1], ARGV[1], n)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {1, total + n}
"""

_COUNT = """
local oldest = tonumber(ARGV[1])
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i]) >= oldest then total = total + tonumber(fields[i + 1]) end
end
return total
"""


class RedisCounters:
    def __init__(self, client: redis.Redis, prefix: str = "localforce:counter:") -> None:
        self._prefix = prefix
        self._take: Any = client.register_script(_TAKE)
        self._count: Any = client.register_script(_COUNT)

    @classmethod
    def from_url(cls, url: str) -> RedisCounters:
        """Short timeouts: a dead Redis costs a request half a second, then the fallback."""
        return cls(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5))

    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        may_wait()  # a network round trip: never on the event loop
        granted, total = self._take(
            keys=[self._prefix + key],
            args=[window.bucket_of(now), window.oldest(now), -1 if limit is None else limit,
                  window.seconds + window.bucket, n])
        return Taken(bool(granted), int(total))

    def count(self, key: str, window: Window, now: int) -> int:
        may_wait()
        return int(self._count(keys=[self._prefix + key], args=[window.oldest(now)]))


class FallbackCounters:
    """Redis counters that fall back to the database's while Redis is away (issue #15): a
    failed Redis call is answered from ``fallback`` and Redis is tried again ``pause`` seconds
    later. Counts taken during the outage stay in the database (a window spanning the outage
    counts each side separately: a limit may be overshot by what the other side holds, never
    a request refused with a 500)."""

    def __init__(self, primary: RedisCounters, fallback: Counters, *, pause: float = 1.0,
                 on_failure: Callable[[], None] = lambda: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._primary = primary
        self._fallback = fallback
        self._pause = pause
        self._on_failure = on_failure
        self._clock = clock
        self._down_until = 0.0

    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        return self._either(lambda c: c.take(key, window, now, limit, n))

    def count(self, key: str, window: Window, now: int) -> int:
        return self._either(lambda c: c.count(key, window, now))

    def _either(self, call: Callable[[Counters], T]) -> T:
        if self._clock() >= self._down_until:
            try:
                return call(self._primary)
            except redis.RedisError as exc:
                self._down_until = self._clock() + self._pause
                self._on_failure()
                log.warning("Redis counters unavailable (%s); using the database's",
                            exc.__class__.__name__)
        return call(self._fallback)
