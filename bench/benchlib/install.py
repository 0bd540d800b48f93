"""What `make bench` installs for itself: wrk from Debian's packages, the peer from npm.

Both steps are idempotent: wrk only when missing; the peer only when ``bench/.peer/`` does not
already hold the versions pinned by ``bench/peer/package-lock.json``.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
PEER_SRC = BENCH / "peer"
PEER_DIR = BENCH / ".peer"  # git-ignored


class InstallFailed(RuntimeError):
    pass


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        apt = ["sudo", "-n", *apt]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if _run(apt, env) != 0:  # the package lists may be missing or stale on a fresh machine
        _run([*apt[:-4], "update", "-q"], env)
        if _run(apt, env) != 0:
            raise InstallFailed("could not install wrk with apt-get (need root or sudo)")
    found = shutil.which("wrk")
    if not found:
        raise InstallFailed("apt-get installed wrk but it is not on PATH")
    return found


def ensure_peer() -> Path:
    """``npm ci`` the pinned oidc-provider into bench/.peer/ and put the provider script there
    (ES module imports resolve from the script's folder)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise InstallFailed("node and npm are needed for the peer (apt-get install nodejs npm)")
    PEER_DIR.mkdir(exist_ok=True)
    lock = PEER_SRC / "package-lock.json"
    installed_lock = PEER_DIR / "package-lock.json"
    if not (installed_lock.exists() and filecmp.cmp(lock, installed_lock, shallow=False)
            and (PEER_DIR / "node_modules" / "oidc-provider").is_dir()):
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PEER_SRC / name, PEER_DIR / name)
        if _run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                os.environ, cwd=PEER_DIR, timeout=600) != 0:
            raise InstallFailed("npm ci of oidc-provider failed (see the output above)")
    shutil.copyfile(PEER_SRC / "provider.mjs", PEER_DIR / "provider.mjs")
    return PEER_DIR


def _run(argv: list[str], env: os._Environ[str] | dict[str, str], cwd: Path | None = None,
         timeout: float = 300) -> int:
    try:
        return subprocess.run(argv, env=env, cwd=cwd, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL).returncode
    except (OSError, subprocess.TimeoutExpired):
        return 1
