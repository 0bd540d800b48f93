"""``localforce serve`` execs itself as the supervisor (web/supervisor.py), which imports the app
once and then forks its workers (web/servers.py); the store is prepared meanwhile in a child
process (cli/serve.py, prepare_apart).
Spawned, each worker re-ran the parent's main module (``localforce.cli.main`` under
``python -m``: Typer, Rich, the client and every command) and then imported the app again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.clients.server import PROXY_VARS, free_port
from tests.conftest import modules_after

from localforce.web import supervisor


def test_a_served_worker_does_not_import_the_cli_again(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PYTHONPROFILEIMPORTTIME="1")
    log = tmp_path / "imports.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
             "--workers", "1", "--no-maintenance"],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_for_worker(log, process, port)
    finally:
        process.terminate()
        process.wait(timeout=30)
    modules = [line.rsplit("|", 1)[1].strip() for line in log.read_text().splitlines()
               if line.startswith("import time:") and "|" in line]
    assert modules.count("localforce.web.asgi") == 1  # once, for every worker
    assert modules.count("typer") == 1  # the parent's only: the worker did not run the CLI


def test_the_workers_are_forked_from_a_process_without_the_cli() -> None:
    imported = modules_after(
        "from localforce.web import servers, supervisor\n"  # what ``localforce serve`` execs
        "servers.preload('granian')")  # what it holds when granian forks the workers from it
    assert "localforce.web.asgi" in imported
    # the commands, Typer (and pydantic, which Typer parses options with), the SDK and its
    # httpx (whose own CLI imports Click, Rich's syntax and Pygments), Rich's tracebacks
    # and the rest of Rich (structlog imports its tracebacks and pretty-printer, and attrs with
    # them, when Rich is installed: web/logging.py)
    assert not imported & {"localforce.cli", "localforce.cli.main", "localforce.cli.serve",
                           "typer", "pydantic", "pydantic_core", "pydantic_settings",
                           "localforce.client", "httpx", "pygments", "rich", "rich.syntax",
                           "rich.traceback", "rich.pretty", "attr"}
    # hidden from structlog's import only: still importable by whoever wants it
    assert {"rich", "rich.traceback"} <= modules_after(
        "import localforce.web.asgi, rich.traceback")


def test_serve_becomes_the_supervisor_and_its_worker_holds_no_pydantic(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-X", "utf8", "-m", "localforce.cli.main", "serve", "--port",
             str(port), "--workers", "1", "--no-maintenance"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_worker(log, process, port)
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert command[command.index(b"-c") + 1] == supervisor._MAIN.encode()
        flags = command[1:command.index(b"-c")]  # the interpreter's options, kept
        assert flags[flags.index(b"utf8") - 1] == b"-X" and b"-P" in flags
        assert command[-7:] == [b"serve", b"--port", str(port).encode(), b"--workers", b"1",
                                b"--no-maintenance", b""]  # the command line, for ps
        worker = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        maps = Path(f"/proc/{worker[0]}/maps").read_text()
        assert "granian" in maps and "pydantic_core" not in maps
        # granian imports watchfiles (a Rust extension) into every worker when it is installed:
        # it is not (uvicorn without its "standard" extra, pyproject.toml)
        assert "watchfiles" not in maps
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Created a demo org." in log.read_text()  # printed by the child that prepared it


def test_the_supervisor_imports_nothing_from_the_current_directory(tmp_path: Path) -> None:
    """The installed ``localforce`` command never looked in the current directory for modules;
    the interpreter it execs runs ``-c``, which would (a ``json.py`` there ran, and could
    have been anyone's), unless told not to."""
    port = free_port()
    env = _env(tmp_path)
    for planted in ("json.py", "granian.py"):
        (tmp_path / planted).write_text("raise SystemExit(99)\n")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "localforce"), "serve", "--port", str(port),
             "--workers", "1", "--no-maintenance"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_worker(log, process, port)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_failure_to_prepare_is_the_commands_exit_and_nothing_serves(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path)
    (tmp_path / "seed.toml").write_text("[[apps]]\nname = 5\n")
    done = subprocess.run(
        [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
         "--seed", "seed.toml", "--no-maintenance"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (2, "error: seed.toml: org: must be a table\n")
    assert "localforce at" not in done.stdout
    try:  # no worker was started: nothing listens on the port
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except OSError:
        pass
    else:
        raise AssertionError("a server answered after a failed prepare")


def test_a_worker_leaves_what_it_built_out_of_the_collectors_generations(
        tmp_path: Path) -> None:
    """web/asgi.py ``create``, what each served worker calls: the app and everything built
    before it are frozen (``gc.freeze``), so a full collection no longer walks them."""
    code = ("import gc\n"
            "from localforce.web.asgi import create\n"
            "assert gc.get_freeze_count() == 0\n"
            "app = create()\n"
            "print(gc.get_freeze_count(), any(o is app for o in gc.get_objects()))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, app_collectable = done.stdout.split()
    assert int(frozen) > 10_000 and app_collectable == "False"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without localforce's settings and proxies, the home in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    return {**env, "LOCALFORCE_HOME": str(tmp_path / "home"), **extra}


def _wait_for_worker(log: Path, process: subprocess.Popen[bytes], port: int) -> None:
    """Until the worker answers /healthz (it has imported the app by then)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("no /healthz answer in 60 s")
