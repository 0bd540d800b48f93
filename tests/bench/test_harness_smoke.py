"""The bench harness itself works: one short run of one scenario, end to end.

This is not a benchmark: it asserts that `bench/run.py` starts the floor server as a user
would, loads it from a separate wrk process, stops it, prints the table and writes the JSON
report — never how fast anything is. wrk comes from scripts/test-setup.sh (Debian's package).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parents[2]


def test_one_short_floor_run_reports_and_stops_its_server(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        missing_service("wrk is not installed (scripts/test-setup.sh installs it)")
    out = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--only", "floor.get", "--duration",
         "1", "--warmup", "0", "--runs", "1", "--connections", "2", "--no-install",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert "| floor.get " in done.stdout
    report = json.loads(out.read_text())
    [row] = report["results"]
    assert (row["key"], row["status"], row["errors"]) == ("floor.get", "ok", 0)
    assert row["requests"] > 0 and len(row["runs_rps"]) == 1
    assert row["peak_rss_mib_per_worker"] > 0
    assert set(report["startup_s"]) == {"floor/granian"}  # serve's server; no raw floor
    assert report["machine"]["cpus"] >= 1
    # Stopped by its process group: the server is gone and its port is closed.
    server = report["servers"]["floor/granian"]
    assert not Path(f"/proc/{server['pid']}").exists()
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", server["port"]))
