"""HAProxy (Debian's package) running ``deploy/haproxy.cfg`` itself, with this test's ports in
place of the recipe's 8080 and 8081-8083, and an admin socket to read the servers' states."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from localforce.testing.org import free_port

RECIPE = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)


def config_for(frontend_port: int, replica_ports: list[int], socket_path: Path) -> str:
    text = RECIPE.read_text()
    assert text.count("127.0.0.1:8080") == 1
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{frontend_port}")
    for i, port in enumerate(replica_ports, start=1):
        assert text.count(f"127.0.0.1:808{i}") == 1
        text = text.replace(f"127.0.0.1:808{i}", f"127.0.0.1:{port}")
    text = text.replace("local0 notice", "local0 info")  # every request in haproxy.log
    return text.replace("global\n", f"global\n    stats socket {socket_path} mode 600 level admin\n",
                        1)


@dataclass
class HAProxy:
    url: str
    process: subprocess.Popen[bytes]
    socket_path: Path
    log: Path

    @classmethod
    def start(cls, binary: str, folder: Path, replica_ports: list[int],
              port: int | None = None) -> HAProxy:
        port = port or free_port()
        socket_path = folder / "haproxy.sock"
        config = folder / "haproxy.cfg"
        config.write_text(config_for(port, replica_ports, socket_path))
        log = folder / "haproxy.log"
        with log.open("wb") as out:
            process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=out,
                                       stderr=subprocess.STDOUT)
        proxy = cls(f"http://127.0.0.1:{port}", process, socket_path, log)
        proxy.wait_until(lambda states: len(states) == len(replica_ports)
                         and all(s == "UP" for s in states.values()), timeout=20)
        return proxy

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.socket_path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """``{"replica1": "UP", ...}`` as HAProxy's health checks see them."""
        found = {}
        for line in self.command("show stat").splitlines():
            fields = line.split(",")
            if len(fields) > 17 and fields[0] == "replicas" and fields[1] != "BACKEND":
                found[fields[1]] = fields[17].split(" ")[0]
        return found

    def wait_until(self, condition, timeout: float) -> dict[str, str]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy stopped:\n{self.log.read_text()}")
            try:
                states = self.states()
            except OSError:
                states = {}
            if condition(states):
                return states
            if time.monotonic() > deadline:
                raise AssertionError(f"HAProxy states {states} after {timeout} s")
            time.sleep(0.05)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, timeout=15)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
