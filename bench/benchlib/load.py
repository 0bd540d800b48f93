"""Load from a separate ``wrk`` process: a warm-up, then N bounded runs, the median by req/s.

One wrk thread (``-t1``) drives all connections, as in perf-baseline.md: wrk then uses a small
share of one core and the rotation pool in ``wrk/load.lua`` lives in one Lua state. Every run
is bounded by ``-d`` and by a subprocess timeout.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent.parent / "wrk" / "load.lua"


@dataclass(frozen=True)
class LoadSpec:
    """What one scenario sends. ``body``/``auth`` are static; ``rotate_file`` switches the Lua
    script to refresh-token rotation (``body`` is then the prefix before the token)."""

    url: str
    method: str = "GET"
    body: str = ""
    auth: str = ""
    rotate_file: Path | None = None
    content_type: str = ""  # the body's, when not a form


@dataclass(frozen=True)
class Settings:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    runs: int = 3
    connections: int = 64
    #: wrk's per-request timeout; slow scenarios (argon2id logins at c64) need more than 2 s.
    timeout_s: float = 10.0


@dataclass(frozen=True)
class RunResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # HTTP >= 400 plus socket errors (connect, read, write, timeout)

    @classmethod
    def from_wrk(cls, data: dict[str, int]) -> RunResult:
        errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
        seconds = data["duration_us"] / 1e6
        return cls(rps=round(data["requests"] / seconds, 1), p50_ms=data["p50_us"] / 1000,
                   p99_ms=data["p99_us"] / 1000, requests=data["requests"], errors=errors)


class WrkFailed(RuntimeError):
    pass


def _argv(spec: LoadSpec, duration_s: float, connections: int, timeout_s: float
          ) -> tuple[list[str], dict[str, str]]:
    env = {"WRK_METHOD": spec.method, "WRK_BODY": spec.body, "WRK_AUTH": spec.auth,
           "WRK_CONTENT_TYPE": spec.content_type, "PATH": "/usr/bin:/bin:/usr/local/bin"}
    if spec.rotate_file is not None:
        env |= {"WRK_ROTATE_FILE": str(spec.rotate_file), "WRK_ROTATE_BODY": spec.body}
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
            f"--timeout={max(1, round(timeout_s))}s", "-s", str(LUA), spec.url]
    return argv, env


def wrk_once(spec: LoadSpec, duration_s: float, connections: int, timeout_s: float) -> RunResult:
    argv, env = _argv(spec, duration_s, connections, timeout_s)
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True,
                              timeout=duration_s + timeout_s + 30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise WrkFailed(f"wrk did not finish: {' '.join(argv)}") from exc
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return RunResult.from_wrk(json.loads(line.removeprefix("BENCH_JSON ")))
    raise WrkFailed(f"wrk exited {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")


@dataclass(frozen=True)
class Measured:
    """The median run by req/s (its p50/p99 with it), and every run's req/s for the record."""

    median: RunResult
    runs: tuple[float, ...]
    errors: int  # over all measured runs
    requests: int  # over the warm-up and every run: what the server did meanwhile

    def as_json(self) -> dict[str, object]:
        return {**asdict(self.median), "runs_rps": list(self.runs), "errors": self.errors,
                "requests_all_runs": self.requests}


BACKGROUND_CONNECTIONS = 8


def measure(spec_for_run: Callable[[int], LoadSpec], settings: Settings,
            background: LoadSpec | None = None) -> Measured:
    """``spec_for_run(i)`` gives the LoadSpec of run ``i`` (-1 is the warm-up): scenarios that
    spend their input (rotated refresh tokens) make a fresh one per run. ``background`` is
    sent by a second wrk process (8 connections) for as long as the measurement lasts."""
    if background is None:
        return _measure(spec_for_run, settings)
    with sending(background, settings.warmup_s + settings.runs * (settings.duration_s + 1) + 5,
                 settings.timeout_s):
        return _measure(spec_for_run, settings)


@contextmanager
def sending(spec: LoadSpec, duration_s: float, timeout_s: float = 10.0) -> Iterator[None]:
    """``spec`` sent by a wrk process of its own (``BACKGROUND_CONNECTIONS``) during the
    block, for at most ``duration_s``."""
    argv, env = _argv(spec, duration_s, BACKGROUND_CONNECTIONS, timeout_s)
    other = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield
    finally:
        other.terminate()
        other.wait(timeout=30)


def _measure(spec_for_run: Callable[[int], LoadSpec], settings: Settings) -> Measured:
    warm = _warm_up(spec_for_run, settings)
    results = [_run(spec_for_run, i, settings) for i in range(settings.runs)]
    return _summary(results, warm)


@dataclass(frozen=True)
class Paired:
    """A scenario measured in alternation with its partner (the peer's scenario or a floor it
    is divided by): run ``i`` of each follows the other's within seconds, so both see the
    machine about equally. ``ratio`` is the median of the runs' ratios, ours ÷ theirs."""

    ours: Measured
    theirs: Measured
    ratios: tuple[float, ...]

    @property
    def ratio(self) -> float:
        return round(statistics.median(self.ratios), 2)


def measure_paired(ours: Callable[[int], LoadSpec], theirs: Callable[[int], LoadSpec],
                   settings: Settings) -> Paired:
    """Both warmed up, then ``settings.runs`` rounds: ours then theirs, theirs then ours in
    the next round (``bench/ab.py`` does the same for two localforce set-ups)."""
    specs = (ours, theirs)
    warm = [_warm_up(spec, settings) for spec in specs]
    results: tuple[list[RunResult], list[RunResult]] = ([], [])
    for i in range(settings.runs):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            results[side].append(_run(specs[side], i, settings))
    return Paired(_summary(results[0], warm[0]), _summary(results[1], warm[1]),
                  tuple(round(a.rps / b.rps, 4) if b.rps else 0.0
                        for a, b in zip(*results, strict=True)))


def _warm_up(spec_for_run: Callable[[int], LoadSpec], settings: Settings) -> int:
    if settings.warmup_s <= 0:
        return 0
    return wrk_once(spec_for_run(-1), settings.warmup_s, settings.connections,
                    settings.timeout_s).requests


def _run(spec_for_run: Callable[[int], LoadSpec], i: int, settings: Settings) -> RunResult:
    return wrk_once(spec_for_run(i), settings.duration_s, settings.connections,
                    settings.timeout_s)


def _summary(results: list[RunResult], warm: int) -> Measured:
    median = sorted(results, key=lambda r: r.rps)[len(results) // 2]
    return Measured(median, tuple(r.rps for r in results), sum(r.errors for r in results),
                    warm + sum(r.requests for r in results))

