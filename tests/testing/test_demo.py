"""examples/pytest-demo, run as its own project the way ``make test`` runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import localforce

pytestmark = pytest.mark.clients

DEMO = Path(__file__).resolve().parents[2] / "examples" / "pytest-demo"


def test_the_demo_project_passes_with_the_plugin() -> None:
    """Under two pytest-xdist workers (each starts its own org) when xdist is installed (the
    ``test`` extra has it; a venv from before it runs the demo in one process)."""
    # This checkout's localforce and its plugin, whether or not the venv's metadata has the
    # pytest11 entry point yet (blocked by name, loaded by module).
    env = {**os.environ, "PYTHONPATH": str(Path(localforce.__file__).resolve().parents[1])}
    parallel = ["-n", "2"] if importlib.util.find_spec("xdist") else []
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-W", "error", "-p",
                             "no:localforce", "-p", "localforce.testing.plugin", *parallel],
                            cwd=DEMO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
