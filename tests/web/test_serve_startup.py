"""``localforce serve``'s workers start without importing the CLI again (servers.spawn_without_main):
a spawned worker re-ran the parent's main module (``localforce.cli.main`` under ``python -m``),
Typer, Rich, the client and every command, before the app's own imports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.clients.server import PROXY_VARS, free_port


def test_a_served_worker_does_not_import_the_cli_again(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    env.update(LOCALFORCE_HOME=str(tmp_path / "home"), PYTHONPROFILEIMPORTTIME="1")
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
    assert modules.count("localforce.web.asgi") == 1  # the worker's app
    assert modules.count("typer") == 1  # the parent's only: the worker did not run the CLI


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
