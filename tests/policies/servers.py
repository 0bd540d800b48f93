"""``localforce serve`` processes with chosen settings, for the policy tests that need real
servers: two processes sharing one database, and the log-secrecy harness (its output is the
subject). Built on the client tests' server helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.clients.server import (
    PROXY_VARS,
    SEED,
    LiveServer,
    free_port,
    wait_until_healthy,
    write_jwt_certificate,
)


def start(folder: Path, home: Path, **settings: str) -> LiveServer:
    """``localforce serve`` on a free loopback port over ``home`` (shared homes share the
    SQLite database and master key), with ``LOCALFORCE_{NAME}`` settings."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (home.parent / "jwt.key").exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        write_jwt_certificate(home.parent)
        (home.parent / "seed.toml").write_text(SEED)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    env["LOCALFORCE_HOME"] = str(home)
    env.update({f"LOCALFORCE_{k.upper()}": v for k, v in settings.items()})
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
             "--seed", str(home.parent / "seed.toml")],
            cwd=home.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", home, log, None, home.parent / "jwt.key",
                        process)
    wait_until_healthy(server)
    return server
