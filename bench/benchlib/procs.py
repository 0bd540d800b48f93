"""Servers the harness starts: spawn in their own session, time the first 200, sample RSS, stop.

Every process is started with ``start_new_session`` and stopped by its process-group id, so
uvicorn's workers and node go with their parent and nothing outlives a run. Only 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


class ServerFailed(RuntimeError):
    """The server exited or never answered 200; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One server under test, as a user would start it."""

    name: str
    argv: Sequence[str]
    port: int
    log: Path
    health_path: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    #: Seconds from spawn to the first 200 on ``health_path``.
    startup_s: float | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120.0) -> float:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        started = time.monotonic()
        self.process = subprocess.Popen(
            list(self.argv), env={**os.environ, **self.env}, cwd=self.cwd, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.startup_s = self._wait_ready(started, timeout)
        return self.startup_s

    def _wait_ready(self, started: float, timeout: float) -> float:
        url = self.base_url + self.health_path
        while time.monotonic() - started < timeout:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with {self.process.returncode}"
                                   f"\n{self.log_tail()}")
            if http_status(url) == 200:
                return time.monotonic() - started
            time.sleep(0.01)
        self.stop()
        raise ServerFailed(f"{self.name}: no 200 from {url} within {timeout:.0f} s\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid  # the session leader: its pid is the group id
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self.process.wait(timeout=15)
        # Workers may linger a moment after their supervisor: reap the group.
        _signal_group(pgid, signal.SIGKILL)

    def workers(self) -> list[int]:
        """The pids that serve requests: uvicorn's worker children, else the process itself."""
        assert self.process is not None
        children = [pid for pid in _children(self.process.pid)
                    if "resource_tracker" not in _cmdline(pid)]
        return children or [self.process.pid]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def running(server: Server, timeout: float = 120.0) -> Iterator[Server]:
    server.start(timeout)
    try:
        yield server
    finally:
        server.stop()


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command may contain spaces and parentheses: fields start after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_kib(pid: int) -> int:
    """Current resident set size of one process (VmRSS), KiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time a process (or one of its threads) has used so far; 0 if it is
    gone."""
    stat = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        fields = Path(stat).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); here counted after the ')'.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples the workers' VmRSS in a thread while a load runs; ``peak_mib`` is the largest
    value any single worker reached (the per-worker peak). Also the CPU time the workers
    used meanwhile (``cpu_s``): per request, it is the figure least moved by other work on
    the machine; and the part of it their main threads used (``loop_cpu_s``), where the
    event loop runs every request's Python one at a time: the thread that bounds a worker's
    rate, where the rest is the server's I/O threads and ours beside the loop."""

    def __init__(self, server: Server, interval: float = 0.2) -> None:
        self.server, self.interval = server, interval
        self.peak_kib = 0
        self.pids: list[int] = []
        self._cpu_start = self.cpu_s = 0.0
        self._loop_start = self.loop_cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        # Workers live as long as the server: find them once, not by scanning /proc each time.
        self.pids = self.server.workers()
        self._cpu_start = sum(cpu_seconds(pid) for pid in self.pids)
        self._loop_start = sum(cpu_seconds(pid, pid) for pid in self.pids)
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.cpu_s = sum(cpu_seconds(pid) for pid in self.pids) - self._cpu_start
        self.loop_cpu_s = sum(cpu_seconds(pid, pid) for pid in self.pids) - self._loop_start

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        for pid in self.pids:
            self.peak_kib = max(self.peak_kib, rss_kib(pid))

    @property
    def peak_mib(self) -> float:
        return round(self.peak_kib / 1024, 1)
