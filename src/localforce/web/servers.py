"""The HTTP servers ``localforce serve`` can run the app under: granian (the default) or uvicorn.

Both load the same ASGI factory (``localforce.web.asgi:create``) in each worker process and
serve it unchanged: same routes, same wire bytes, same lifespan. They differ in what carries a
request from the socket to the app. Measured side by side in ``make bench`` (bench/README.md,
"HTTP server"), granian's Rust HTTP/1.1 stack (hyper on tokio, one thread per worker feeding
the worker's asyncio loop) costs less CPU per request than uvicorn's httptools protocol on
uvloop, so it is the default; ``--server uvicorn`` stays for whoever needs uvicorn's behaviour
(e.g. its proxy-header handling or debugging with its logs).

Settings common to both, as ``serve`` has always run uvicorn: the server's own access log off
(ours, web/logging.py, redacts query strings, where GET revoke and identity calls carry
tokens), no ``Server`` header, no proxy-header rewriting (web/clientip.py decides which peers'
``X-Forwarded-For`` to believe), TLS from the given PEM files, and a request's line and
headers bounded near Salesforce's 16,384 bytes (431 past it): by granian's read buffer, and for
uvicorn, whose httptools parser has no bound, by the app (``create_bounded``,
web/requestsize.py).
"""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ServerName = Literal["granian", "uvicorn"]
SERVERS: tuple[ServerName, ...] = ("granian", "uvicorn")
DEFAULT_SERVER: ServerName = "granian"
APP = "localforce.web.asgi:create"
#: uvicorn's: the same app with the request head bounded in it (web/requestsize.py).
APP_UVICORN = "localforce.web.asgi:create_bounded"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    workers: int
    certfile: Path | None = None
    keyfile: Path | None = None


def can_bind(host: str, port: int) -> bool:
    """Whether ``host:port`` is free to listen on, as the server will (``SO_REUSEADDR``): asked
    before starting, so a port in use is one clear line rather than the server's own report
    (granian's is a Rust panic with its backtrace)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno != errno.EADDRINUSE
    return True


def run(server: ServerName, listen: Listen) -> None:
    """Serve until stopped (SIGINT/SIGTERM), in this process and ``listen.workers`` workers."""
    os.environ[SUPERVISOR_ENV] = str(os.getpid())  # read by each worker: follow_supervisor
    if server == "granian":
        _granian(listen)
    else:
        _uvicorn(listen)


def preload(server: str) -> None:
    """Import the workers' app in this process when the server forks its workers from it
    (granian), so that each worker starts with it imported; a no-op for uvicorn's spawned
    workers. Only imports: no thread, pool or connection may exist here before the fork."""
    if server == "granian":
        import localforce.web.asgi  # noqa: F401


#: The pid of the process that started the workers (set by ``run``).
SUPERVISOR_ENV = "LOCALFORCE_SUPERVISOR_PID"
#: Seconds between a worker's looks at its parent.
FOLLOW_EVERY_S = 0.1


def follow_supervisor() -> None:
    """In a worker process (not one that serves in the supervisor's own process, as uvicorn
    does with one worker): end with the supervisor. A ``kill -9`` of ``localforce serve`` left
    its workers running — still holding the port, still running Bulk jobs — where the same
    kill of a single-process server ends everything; the worker now kills itself the same way
    within ``FOLLOW_EVERY_S`` of finding itself re-parented."""
    supervisor = int(os.environ.get(SUPERVISOR_ENV, "0") or 0)
    if not supervisor or supervisor == os.getpid() or os.getppid() != supervisor:
        return
    _kill_on_parent_death()

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(FOLLOW_EVERY_S)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="follow-supervisor", daemon=True).start()


def _kill_on_parent_death() -> None:
    """Linux: the kernel sends SIGKILL the moment the parent dies (``PR_SET_PDEATHSIG``); the
    watching thread stays for other systems and as a second line."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


#: prctl(2) option: the signal sent to this process when its parent dies.
PR_SET_PDEATHSIG = 1


#: granian's read buffer, which bounds a request's line and headers together (Salesforce: URI
#: and headers up to 16,384 bytes, else 431), with room for the request line's and header
#: lines' own bytes: a head that does not fit is a 431 before the app sees it. The bound is
#: hyper's buffer, not an exact count: on a connection that already carried requests a head
#: up to about twice as long may fit (48 KB never does: tests/web/test_request_size.py).
MAX_HEAD_BYTES = 16_384 + 4_096


def _granian(listen: Listen) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.server import Server

    # Workers are forked (granian's default on Linux) from this process with the app already
    # imported, so they start without importing it again each (bench/README.md, "Start-up").
    # That is safe because this process has only imported modules: ``serve`` prepared the
    # store in a child process (cli/serve.py, prepare_apart), so no thread, pool or connection
    # is inherited half-alive (prepared here, the argon2 pool's missing threads hung every
    # password check). This process is the one ``serve`` exec'd (web/supervisor.py): the
    # workers do not inherit the command line's modules either.
    preload("granian")  # the workers' app, imported once for all (if not yet)
    multiprocessing.set_start_method("fork", force=True)
    signal_workers_once()  # inherited by the forked workers

    Server(APP, factory=True, interface=Interfaces.ASGI, address=listen.host,
           port=listen.port, workers=listen.workers, loop=Loops.uvloop,
           # HTTP/1.1 as with uvicorn: no HTTP/2 by ALPN that some clients would then take.
           http=HTTPModes.http1,
           # hyper's read buffer: a head that does not fit is a 431.
           http1_settings=HTTP1Settings(max_buffer_size=MAX_HEAD_BYTES),
           # Our access log replaces granian's (off by default); its own messages stay.
           log_access=False,
           ssl_cert=listen.certfile, ssl_key=listen.keyfile,
           # TLS 1.2 still, as uvicorn (Python's ssl defaults) and Salesforce accept it.
           ssl_protocol_min=SSLProtocols.tls12).serve()


#: The signals that stop a worker (granian's ``_signals._get_signals`` on Linux).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Stop signals a forked worker received before its loop's handlers existed.
_early: list[int] = []


def signal_workers_once() -> None:
    """Make granian's workers (forked from here after this call) stop on a SIGINT/SIGTERM at
    any time, and pass only the first on. Three defects of granian 2.8's worker signals, each
    leaving a worker that never stops and a supervisor that waits for it for ever:

    - a signal between the fork and the loop's handlers (while the app is made) ran the
      supervisor's inherited Python handler and was lost: each forked worker now records it
      (``os.register_at_fork``), and the handlers act on it once installed;
    - the handler sends on a one-slot channel that the worker reads only once it serves: a
      second signal before that (while the app's lifespan starts) blocked it for ever, holding
      the GIL. Two signals are the rule when a process group is stopped (Ctrl-C in a terminal,
      ``kill -- -PGID``, systemd's default ``KillMode``): each worker gets the signal, then
      the supervisor terminates each worker;
    - granian's handler was the loop's (``add_signal_handler``): uvloop acts on one only when
      it arrives while the loop runs, and the worker's loop stops between the lifespan's start
      and serving. A plain Python handler runs whenever the main thread does (the running
      loop wakes it through its wakeup descriptor), and ``once`` needs no loop.

    A worker signalled before it serves stops as soon as it serves. Idempotent."""
    from granian import _signals

    if getattr(_signals.set_loop_signals, "once", False):
        return
    worker_signal = _signals.WorkerSignal

    def set_loop_signals(_loop: Any) -> Any:  # granian's, acting on the first signal only
        event = worker_signal()
        fired = False

        def once(_signum: int | None = None, _frame: object = None) -> None:
            nonlocal fired
            if not fired:
                fired = True
                event.set()

        for number in STOP_SIGNALS:
            signal.signal(number, once)
        if _early:
            once()
        return event

    set_loop_signals.once = True  # type: ignore[attr-defined]
    _signals.set_loop_signals = set_loop_signals
    os.register_at_fork(after_in_child=_record_early_signals)


def _record_early_signals() -> None:
    _early.clear()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda number, _frame: _early.append(number))


def _uvicorn(listen: Listen) -> None:
    import uvicorn

    uvicorn.run(APP_UVICORN, factory=True, host=listen.host, port=listen.port,
                workers=listen.workers if listen.workers > 1 else None, log_level="info",
                proxy_headers=False, server_header=False, access_log=False,
                ssl_certfile=str(listen.certfile) if listen.certfile else None,
                ssl_keyfile=str(listen.keyfile) if listen.keyfile else None)
