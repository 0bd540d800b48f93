"""``--profile``: sample the server's workers with py-spy while one extra load runs, and boil
the stacks down to the functions that take the time (inclusive and self), as text.

The profiled run is extra, after the measured ones, so the sampler never skews a figure.
py-spy comes from the ``bench`` extra (pyproject.toml), which `make bench` installs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .procs import Server


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(server: Server, seconds: float, raw: Path) -> subprocess.Popen[bytes]:
    """Start sampling every worker (``--subprocesses``) for ``seconds``; collapsed stacks."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install -e '.[bench]')")
    assert server.process is not None
    return subprocess.Popen(
        # --gil: only the thread holding the GIL is sampled, so the summary shows where the
        # Python CPU time goes, not where threads wait (for a lock, the database, the pool).
        [exe, "record", "--pid", str(server.process.pid), "--subprocesses", "--nonblocking",
         "--gil", "--rate", "250", "--format", "raw", "--duration", str(max(1, round(seconds))),
         "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def summarize(raw: Path, title: str, top: int = 30) -> str:
    """Inclusive and self shares of samples per function, busiest first. py-spy leaves idle
    threads out (a threadpool waiting for work, the loop in its select)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return f"# {title}\n(no busy samples)\n"
    lines = [f"# {title}", f"{total} busy samples", "",
             "## inclusive (share of busy samples with this function on the stack)"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "## self (share of busy samples in this function itself)"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    # "handle (starlette/routing.py:123)" -> "handle (starlette/routing.py)": group by function.
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name

