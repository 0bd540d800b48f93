"""The bench measures a scenario in alternation with its partner and judges it by that pairing.

``make bench`` divides localforce's grants by the peer and its query by the bare GET floor. On
a shared machine a partner measured minutes earlier moves those ratios with the machine
(bench/README.md, twenty-third pass), so the scenarios of PAIRS run in alternation with their
partner, run by run, and the report takes the median of the runs' ratios. No load is sent
here: ``wrk_once`` is replaced by a recorder.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def benchlib(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(BENCH))
    try:
        yield importlib.import_module("benchlib")
    finally:
        for name in [n for n in sys.modules if n == "benchlib" or n.startswith("benchlib.")]:
            sys.modules.pop(name, None)


def _row(load: ModuleType, rps: float, p99: float = 5.0) -> object:
    return load.RunResult(rps=rps, p50_ms=1.0, p99_ms=p99, requests=int(rps), errors=0)


def test_runs_alternate_and_the_ratio_is_the_median_of_the_runs_ratios(
        benchlib: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    load = importlib.import_module("benchlib.load")
    # Each run answers what the machine gives at that moment: ours 1,000 req/s at full speed,
    # theirs 800, and the machine's speed halves after the first round.
    speed = iter([1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    sent: list[str] = []

    def wrk_once(spec: object, duration_s: float, connections: int, timeout_s: float) -> object:
        url = spec.url  # type: ignore[attr-defined]
        sent.append(url + (" warm" if duration_s == 0.5 else ""))
        return _row(load, (1000.0 if url == "ours" else 800.0) * next(speed))

    monkeypatch.setattr(load, "wrk_once", wrk_once)
    settings = load.Settings(duration_s=4.0, warmup_s=0.5, runs=3)
    paired = load.measure_paired(lambda _i: load.LoadSpec("ours"),
                                 lambda _i: load.LoadSpec("theirs"), settings)

    assert sent == ["ours warm", "theirs warm", "ours", "theirs", "theirs", "ours", "ours",
                    "theirs"]
    assert paired.ours.runs == (1000.0, 500.0, 500.0)
    assert paired.theirs.runs == (800.0, 400.0, 400.0)
    assert paired.ratios == (1.25, 1.25, 1.25)
    assert paired.ratio == 1.25
    assert paired.ours.requests == 1000 + 1000 + 500 + 500  # the warm-up counts as served


def test_the_report_takes_the_pairing_not_the_partner_measured_apart(
        benchlib: ModuleType) -> None:
    load = importlib.import_module("benchlib.load")
    report_module = importlib.import_module("benchlib.report")
    report = report_module.Report(settings={"accounts": 10})

    def measured(*runs: float) -> object:
        results = [_row(load, r) for r in runs]
        return load.Measured(sorted(results, key=lambda r: r.rps)[1],
                             tuple(runs), 0, int(sum(runs)))

    # The peer's own row, measured at the start when the machine was fast.
    report.add(report_module.Row("peer.client_credentials", "cc", "-", "base",
                                 measured=measured(9000, 9000, 9000)))
    for phase, ours, theirs in (("base", (6000, 6600, 7200), (6000, 6000, 6000)),
                                ("growth", (3000, 3300, 3600), (3000, 3000, 3000))):
        row = report_module.Row("localforce.client_credentials", "cc", "sqlite", phase,
                                "granian", paired_with="peer.client_credentials",
                                paired=load.Paired(
                                    measured(*ours), measured(*theirs),
                                    tuple(o / t for o, t in zip(ours, theirs, strict=True))))
        row.measured = row.paired.ours
        report.add(row, peer="peer.client_credentials", floor="floor.form_post")

    base = report.find("localforce.client_credentials", "sqlite", "base", "granian")
    assert base.vs_peer == 1.1  # 6,600 / 6,000 in the same runs, not 6,600 / 9,000
    assert base.as_json()["paired_ratios"] == [1.0, 1.1, 1.2]
    targets = {t["name"]: t for t in report.targets("sqlite", "granian")}
    assert targets["client_credentials / peer"]["met"] is True
    # Req/s halved between the phases with the machine; against the peer nothing was lost.
    paired_loss = targets["client_credentials: loss 10^4 -> 10^6 tokens, each phase ÷ "
                          "peer.client_credentials (%)"]
    plain_loss = targets["client_credentials: loss 10^4 -> 10^6 tokens, req/s (%)"]
    assert (paired_loss["value"], paired_loss["met"]) == (0.0, True)
    assert (plain_loss["value"], plain_loss["bar"], plain_loss["met"]) == (50.0, None, None)
    assert "1.10*" in report.table()
