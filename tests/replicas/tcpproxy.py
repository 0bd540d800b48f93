"""A TCP relay the test controls, between the replicas and PostgreSQL or Redis: ``stop()`` is
the server going away (every connection cut, new ones refused), ``start()`` it coming back on
the same port. The shared PostgreSQL and Redis of this machine are never touched.

The relay runs in a process of its own (this file run as a script): inside the test process it
fell silent whenever that process stalled — a CI run saw a ~19 s stall in which the replicas'
Redis calls went unanswered and HAProxy marked every replica down — and what was tested was
then the test's own pause, not the replicas.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Listen on ``port`` (a free one the first time) once this returns."""
        process = subprocess.Popen(
            [sys.executable, __file__, self.upstream[0], str(self.upstream[1]), str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        line = process.stdout.readline()  # the port, once it listens
        if not line.strip().isdigit():
            process.kill()
            raise RuntimeError(f"the relay did not start: {line!r}")
        self.port = int(line)
        self._process = process

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a stopped server does."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(10)
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def serve(upstream: tuple[str, int], port: int) -> None:
    """Relay until stdin closes (the test process ended, however it ended)."""
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        try:
            server = socket.create_connection(upstream, timeout=5)
            server.settimeout(None)
        except OSError:
            client.close()
            continue
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


if __name__ == "__main__":
    serve((sys.argv[1], int(sys.argv[2])), int(sys.argv[3]))
