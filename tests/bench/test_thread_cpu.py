"""The bench splits a worker's CPU: its main thread's (the event loop's) apart from the rest
(``bench/ab.py``'s loop column, ``benchlib.procs.cpu_seconds`` of one thread)."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_the_cpu_a_thread_beside_the_main_one_used_is_not_the_main_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    procs = importlib.import_module("benchlib.procs")
    try:
        pid = os.getpid()
        process, main = procs.cpu_seconds(pid), procs.cpu_seconds(pid, pid)
        worker = threading.Thread(target=_burn, args=(0.5,))
        worker.start()
        worker.join()  # the main thread waits, spending nothing
        spent_process = procs.cpu_seconds(pid) - process
        spent_main = procs.cpu_seconds(pid, pid) - main
        assert spent_process >= 0.4
        assert spent_main <= 0.1
        _burn(0.5)  # now the main thread
        assert procs.cpu_seconds(pid, pid) - main >= 0.4
        assert procs.cpu_seconds(pid, 2 ** 22 + 1) == 0.0  # no such thread
    finally:
        for name in [n for n in sys.modules if n == "benchlib" or n.startswith("benchlib.")]:
            sys.modules.pop(name, None)
