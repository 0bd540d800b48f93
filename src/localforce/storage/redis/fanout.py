"""Cache invalidation across processes on Redis pub/sub (DESIGN.md: a change reaches every
worker and replica within 100 ms; the 1 s TTL is the fallback while Redis is away).

``publish`` sends one message per committed change (``caching.announce``); a daemon thread in
every process subscribes and hands each other process's message to ``caching.apply``. A
process's own messages carry its origin id and are skipped (it already dropped what it held).
When the subscription breaks, everything is dropped on reconnect (messages may have been
missed meanwhile), and publishing is skipped for ``pause`` seconds after a failure so that a
dead Redis costs requests nothing but the TTL bound.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

import redis

CHANNEL = "localforce:invalidate"
log = logging.getLogger("localforce.fanout")


class RedisFanOut:
    def __init__(self, client: redis.Redis, apply: Callable[[str], None], *,
                 channel: str = CHANNEL, pause: float = 1.0,
                 on_failure: Callable[[], None] = lambda: None,
                 on_message: Callable[[str], None] = lambda direction: None) -> None:
        self._client = client
        self._apply = apply
        self._channel = channel
        self._pause = pause
        self._on_failure = on_failure
        self._on_message = on_message
        self._origin = secrets.token_hex(6)
        self._down_until = 0.0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: redis.client.PubSub | None = None

    @classmethod
    def from_url(cls, url: str, apply: Callable[[str], None], **options: object) -> RedisFanOut:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5,
                                      health_check_interval=10)
        return cls(client, apply, **options)  # type: ignore[arg-type]

    def publish(self, key: str) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            self._client.publish(self._channel, f"{self._origin} {key}")
            self._on_message("sent")
        except redis.RedisError as exc:
            self._down_until = time.monotonic() + self._pause
            self._on_failure()
            log.warning("cache invalidation not published (Redis: %s); other processes "
                        "see the change within the cache TTL", exc.__class__.__name__)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="localforce-fanout",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _listen(self) -> None:
        missed = False
        while not self._stopped.is_set():
            try:
                pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self._channel)
                if missed:  # changes published while we were away are unknown: drop it all
                    self._apply("*")
                    missed = False
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._received(message["data"])
                pubsub.close()
            except (redis.RedisError, OSError) as exc:
                missed = True
                self._on_failure()
                log.warning("cache invalidation subscription lost (Redis: %s); retrying",
                            exc.__class__.__name__)
                self._stopped.wait(self._pause)

    def _received(self, data: bytes) -> None:
        origin, _, key = data.decode().partition(" ")
        if origin != self._origin and key:
            self._on_message("received")
            self._apply(key)
