"""Stopping ``localforce serve`` while a granian worker still starts (web/servers.py,
``signal_workers_once``). Stopping a process group signals each worker twice — once itself,
once from the supervisor — and granian's handler blocked for ever on the second signal if the
worker did not serve yet; the supervisor then waited for that worker for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.clients.server import PROXY_VARS, free_port

#: Three SIGTERMs to a worker's loop before it serves, through granian's own handler setup
#: and its real signal object (a wrapper counts what reaches it).
_BEFORE_SERVING = """
import asyncio, os, signal, sys
import uvloop
from granian import _signals
from localforce.web import servers

real = _signals.WorkerSignal
sets = []

class Counting:
    def __init__(self):
        self.inner = real()
    def set(self):
        sets.append(1)
        self.inner.set()
    def add_cb(self, cb):
        self.inner.add_cb(cb)

_signals.WorkerSignal = Counting
if sys.argv[1] == "guarded":
    servers.signal_workers_once()
    servers.signal_workers_once()  # idempotent: one wrapper, not two
loop = uvloop.new_event_loop()
_signals.set_loop_signals(loop)

async def main():
    for _ in range(3):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)

loop.run_until_complete(main())
print(len(sets))
"""


def _run(mode: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run([sys.executable, "-c", _BEFORE_SERVING, mode],
                              capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:  # SIGKILLed by run(): the handler was stuck
        return None


def test_signals_before_serving_reach_granian_once_and_never_block() -> None:
    done = _run("guarded")
    assert done is not None, "the worker's signal handler blocked"
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")


def test_granian_alone_blocks_on_the_second_signal_before_serving() -> None:
    """Why the guard exists (granian 2.8). When this fails, granian no longer blocks:
    ``signal_workers_once`` may go."""
    assert _run("granian") is None


def test_serve_stopped_as_a_group_while_its_workers_start_exits(tmp_path: Path) -> None:
    """The whole group gets SIGTERM as soon as the supervisor reports its first worker: the
    second is forked then and still starting. Before the guard about one stop in eight
    (with two workers) never ended."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    env["LOCALFORCE_HOME"] = str(tmp_path / "home")
    for attempt in range(3):
        log = tmp_path / f"serve-{attempt}.log"
        with log.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "localforce.cli.main", "serve", "--port",
                 str(free_port()), "--workers", "2", "--no-maintenance"],
                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while b"Started worker-1" not in log.read_bytes():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.005)
            os.killpg(process.pid, signal.SIGTERM)
            assert process.wait(timeout=20) == 0, log.read_text()
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
