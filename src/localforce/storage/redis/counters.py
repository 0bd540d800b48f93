"""``limits.ports.Counters`` on Redis: one hash per key, ``{bucket: count}``.

A Lua script reads, prunes and increments in one step (Redis runs scripts atomically), so every
worker and replica sharing the Redis server sees one count and the limit is never overshot.
The hash expires one window after its last use.
"""

from __future__ import annotations

from typing import Any

import redis

from localforce.limits.ports import Taken, Window

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
        return cls(redis.Redis.from_url(url))

    def take(self, key: str, window: Window, now: int, limit: int | None, n: int = 1) -> Taken:
        granted, total = self._take(
            keys=[self._prefix + key],
            args=[window.bucket_of(now), window.oldest(now), -1 if limit is None else limit,
                  window.seconds + window.bucket, n])
        return Taken(bool(granted), int(total))

    def count(self, key: str, window: Window, now: int) -> int:
        return int(self._count(keys=[self._prefix + key], args=[window.oldest(now)]))
