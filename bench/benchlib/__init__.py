"""The `make bench` harness (bench/run.py is its entry point)."""

from __future__ import annotations

import sys
import time


def log(message: str) -> None:
    """Progress on stderr; the table goes to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
