"""Request threads (web/threads.py): ordinary calls share ``settings.request_threads`` threads;
calls that verify a password wait for argon2 on threads of their own, so logins in progress
never hold up other requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from anyio import to_thread
from tests.conftest import make_settings
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World

from localforce.security import passwords
from localforce.settings import Settings
from localforce.web import threads


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(home, request_threads=1)


class GatedPool:
    """The argon2 pool, but each hash waits for ``gate`` (and says when it started)."""

    def __init__(self) -> None:
        self.entered, self.gate = threading.Event(), threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=2)

    def submit(self, work: Callable[..., Any], *args: Any) -> Future[Any]:
        def gated() -> Any:
            self.entered.set()
            assert self.gate.wait(10), "the gate was never opened"
            return work(*args)
        return self.pool.submit(gated)


def test_ordinary_calls_share_request_threads(world: World) -> None:
    """With ``request_threads=1`` three calls made at once run one after another; anyio's
    default limiter (Starlette's internals) is sized the same."""
    lock, active, peak = threading.Lock(), [0], [0]

    def work() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        threading.Event().wait(0.05)  # long enough for the others to start, were there room
        with lock:
            active[0] -= 1

    async def three_at_once() -> int:
        await asyncio.gather(threads.run(work), threads.run(work), threads.run(work))
        return to_thread.current_default_thread_limiter().total_tokens

    assert world.client.portal.call(three_at_once) == 1  # type: ignore[union-attr]
    assert peak[0] == 1


def test_a_login_waiting_for_argon2_does_not_take_the_request_thread(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    gated = GatedPool()
    monkeypatch.setattr(passwords, "_pool", lambda: gated)
    with ThreadPoolExecutor(max_workers=1) as background:
        login = background.submit(world.token, grant_type="password", client_id=KEY,
                                  client_secret=SECRET, username="admin@acme.test",
                                  password=PASSWORD + SECURITY_TOKEN)
        assert gated.entered.wait(10), "the password grant never reached argon2"
        # The only request thread is free: a grant that needs no password goes through while
        # the login still waits (on the request thread it would wait for the gate too).
        other = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
        assert other.status_code == 200, other.text  # type: ignore[attr-defined]
        assert not login.done()
        gated.gate.set()
        assert login.result(10).status_code == 200
    gated.pool.shutdown()
