"""``kill -9`` of ``localforce serve`` ends its workers too (web/servers.py
``follow_supervisor``): granian runs even one worker as a child process, which outlived its
parent — holding the port, running Bulk jobs — where the same kill of a single-process server
ends everything."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

from tests.clients.server import stop_server
from tests.policies.servers import start


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Any thread of ``pid`` not yet a zombie. The main thread's own state is not enough: it
    turns ``Z`` while the other threads are still exiting, and the process's sockets close
    only when the last of them is gone."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            return True
    return False


def test_a_killed_server_leaves_no_worker_behind(tmp_path: Path) -> None:
    live = start(tmp_path / "server", tmp_path / "root" / "home")
    try:
        workers = children(live.process.pid)
        assert workers, "the server runs its app in a worker process"
        os.kill(live.process.pid, signal.SIGKILL)
        live.process.wait()
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers)
        port = int(live.url.rsplit(":", 1)[1])
        with socket.socket() as again:  # the port is free for the next start
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))
    finally:
        stop_server(live)
