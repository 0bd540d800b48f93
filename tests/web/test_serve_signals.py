"""Stopping ``localforce serve`` while a granian worker still starts (web/servers.py,
``signal_workers_once``): a signal while the worker's app was made was lost, and a second
signal (a process group stopped: the worker's own, then the supervisor's) while its lifespan
started blocked for ever; either way the supervisor waited for that worker for ever."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.clients.server import PROXY_VARS, free_port

#: A granian worker that is slow to make (``slow_factory``) or to start (``slow_start``), so
#: that a stop lands in that window; it writes ``inside`` once it is in it.
_APP = """
import pathlib, time

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if SLOW_START:
                    pathlib.Path("inside").touch()
                time.sleep(SLOW_START)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

def slow_factory():
    pathlib.Path("inside").touch()
    time.sleep(1.5)
    return app

SLOW_START = 0

def slow_start():
    global SLOW_START
    SLOW_START = 1.5
    return app
"""

_SERVE = """
import multiprocessing, sys
from granian.constants import Interfaces, Loops
from granian.server import Server
from localforce.web import servers

multiprocessing.set_start_method("fork", force=True)
if sys.argv[2] == "guarded":
    servers.signal_workers_once()
    servers.signal_workers_once()  # idempotent
Server("toy:" + sys.argv[1], factory=True, interface=Interfaces.ASGI, address="127.0.0.1",
       port=int(sys.argv[3]), workers=1, loop=Loops.uvloop).serve()
"""


def _stopped_while_starting(tmp_path: Path, factory: str, mode: str, whom: str) -> bool:
    """Whether granian's supervisor ended within 10 s of a SIGTERM sent while its worker is
    being made or started (the toy's ``inside``; it logs "Started" only once it serves), to
    ``whom``: the process group; the supervisor alone; or the worker, then the supervisor
    (which passes one on to the worker): a process group's stop, whose two signals to the
    worker a busy machine may merge into one, kept apart."""
    (tmp_path / "toy.py").write_text(_APP)
    (tmp_path / "inside").unlink(missing_ok=True)
    log = tmp_path / f"{factory}-{mode}-{whom}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, factory, mode, str(free_port())], cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)}, stdout=out, stderr=out,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "inside").exists():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.005)
        time.sleep(0.1)  # well inside the 1.5 s the worker spends there
        if whom == "group":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            if whom == "worker-then-supervisor":
                found = re.search(rb"Spawning worker-1 with PID: (\d+)", log.read_bytes())
                assert found is not None, log.read_text()
                os.kill(int(found.group(1)), signal.SIGTERM)
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return False
        return True
    finally:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.mark.parametrize("whom", ["group", "supervisor", "worker-then-supervisor"])
@pytest.mark.parametrize("factory", ["slow_factory", "slow_start"])
def test_a_worker_stopped_before_it_serves_stops(tmp_path: Path, factory: str,
                                                 whom: str) -> None:
    assert _stopped_while_starting(tmp_path, factory, "guarded", whom)


@pytest.mark.parametrize(("factory", "whom"), [("slow_factory", "supervisor"),
                                               ("slow_start", "worker-then-supervisor")])
def test_granian_alone_never_stops_such_a_worker(tmp_path: Path, factory: str,
                                                 whom: str) -> None:
    """Why the guard exists (granian 2.8): the signal is lost while the app is made; the
    second blocks while its lifespan starts. When this fails, granian mended it."""
    assert not _stopped_while_starting(tmp_path, factory, "granian", whom)


def test_serve_stopped_as_a_group_while_its_workers_start_exits(tmp_path: Path) -> None:
    """The whole group gets SIGTERM as soon as the first worker serves: the second is often
    still starting. Without the guard, each of three runs of this test met a stop that never
    ended."""
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
            _kill_group(process)
