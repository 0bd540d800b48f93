"""A server started for tests (``LOCALFORCE_TEST_CONTROL_KEY``) runs one worker: the clock and
faults live in its process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from localforce.cli.main import app


def test_serve_refuses_test_control_with_several_workers(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path
                                                         ) -> None:
    monkeypatch.setenv("LOCALFORCE_TEST_CONTROL_KEY", "k")
    monkeypatch.setenv("LOCALFORCE_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "a server started for tests runs one worker" in result.output
