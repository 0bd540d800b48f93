"""The outcome of a run: one row per scenario, ratios, the issue's targets; table and JSON."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import Measured, Paired
from .scenarios import RAW_OF, STORE_QUERY

MAX_RSS_MIB = 120.0
MAX_STARTUP_S = 1.5


@dataclass
class Row:
    key: str
    label: str
    backend: str  # "-" for floor and peer, else "sqlite" / "postgres"
    phase: str  # "base" or "growth"
    server: str = "-"  # the HTTP server ("granian", "uvicorn"); "-" for the peer
    measured: Measured | None = None
    rss_mib: float | None = None
    cpu_ms_per_request: float | None = None  # the workers' CPU time / requests served
    unavailable: str | None = None  # why the scenario could not run
    vs_peer: float | None = None
    vs_floor: float | None = None
    vs_raw: float | None = None  # ÷ the raw-callable floor on the same server
    #: Measured in alternation with this scenario (key): its runs and the runs' ratios.
    paired_with: str | None = None
    paired: Paired | None = None

    @property
    def flagged(self) -> bool:
        return self.measured is not None and self.measured.errors > 0

    @property
    def rps(self) -> float | None:
        return self.measured.median.rps if self.measured else None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label, "backend": self.backend,
                               "phase": self.phase, "server": self.server}
        if self.unavailable:
            return out | {"status": "not available yet", "reason": self.unavailable}
        assert self.measured is not None
        return out | {"status": "errors" if self.flagged else "ok",
                      **self.measured.as_json(), "peak_rss_mib_per_worker": self.rss_mib,
                      "cpu_ms_per_request": self.cpu_ms_per_request,
                      "vs_peer": self.vs_peer, "vs_floor": self.vs_floor,
                      "vs_raw": self.vs_raw, **self._paired_json()}

    def _paired_json(self) -> dict[str, Any]:
        if self.paired is None:
            return {}
        return {"paired_with": self.paired_with,
                "paired_runs_rps": list(self.paired.theirs.runs),
                "paired_errors": self.paired.theirs.errors,
                "paired_ratios": list(self.paired.ratios)}


@dataclass
class Report:
    settings: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    startup: dict[str, float] = field(default_factory=dict)  # "localforce/sqlite cold" -> s
    servers: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> pid, port
    notes: list[str] = field(default_factory=list)

    def find(self, key: str, backend: str = "-", phase: str = "base", server: str = "-"
             ) -> Row | None:
        return next((r for r in self.rows
                     if (r.key, r.backend, r.phase, r.server) == (key, backend, phase, server)
                     and r.measured is not None), None)

    def add(self, row: Row, peer: str | None = None, floor: str | None = None) -> Row:
        """Append ``row`` with its ratios: to the peer, and to the floors on its own server.
        A ratio to the scenario ``row`` was measured in alternation with is that pairing's
        (the median of the runs' ratios), not one to a row measured minutes apart."""
        if row.rps:
            raw = RAW_OF.get(floor) if floor else None
            for other_key, server, attr in ((peer, "-", "vs_peer"),
                                            (floor, row.server, "vs_floor"),
                                            (raw, row.server, "vs_raw")):
                if row.paired is not None and other_key == row.paired_with:
                    setattr(row, attr, row.paired.ratio)
                    continue
                other = self.find(other_key, server=server) if other_key else None
                if other is not None and other.rps:
                    setattr(row, attr, round(row.rps / other.rps, 2))
        self.rows.append(row)
        return row

    # -- targets --------------------------------------------------------------------------

    def combos(self) -> list[tuple[str, str]]:
        """(backend, server) pairs localforce ran on, in run order."""
        seen = dict.fromkeys((r.backend, r.server) for r in self.rows if r.backend != "-")
        return list(seen)

    def targets(self, backend: str, server: str) -> list[dict[str, Any]]:
        """The targets for one backend and server: name, value, bar, met (None: no data)."""
        lf = "localforce."

        def row(key: str, phase: str = "base") -> Row | None:
            return self.find(lf + key, backend, phase, server)

        def ratio(key: str, attr: str) -> float | None:
            r = row(key)
            return getattr(r, attr) if r else None

        # Issue #18's bars (its longer-term goals: 1.5, 3.0 and 0.5; bench/README.md).
        out = [
            _target("client_credentials / peer", ratio("client_credentials", "vs_peer"), 1.0),
            _target("JWT bearer / peer client_credentials", ratio("jwt_bearer", "vs_peer"), 0.8),
            _target("introspection / peer", ratio("introspection", "vs_peer"), 1.5),
            _target("query / bare GET floor", ratio("query", "vs_floor"), 0.35),
        ]
        # No bar: how far localforce's query is from the same SELECT with nothing around it.
        query, store = row("query"), self.find(STORE_QUERY, backend, "base", server)
        out.append(_target("query / store floor (its SELECT from a raw callable)",
                           round(query.rps / store.rps, 2)
                           if query and store and query.rps and store.rps else None, None))
        password = row("password")
        per_core = round(password.rps / (os.cpu_count() or 1), 1) if password and password.rps \
            else None
        out.append(_target("password grants per second per core", per_core, 30.0))
        both = (row("query"), row("query_during_logins"))
        if all(r is not None for r in both):
            alone, mixed = (r.measured.median.p99_ms for r in both)  # type: ignore[union-attr]
            out.append(_target("query p99 while logins run / alone", round(mixed / alone, 2),
                               2.0, higher_is_better=False))
        for key in ("client_credentials", "jwt_bearer", "introspection", "query"):
            base, grown = row(key), row(key, "growth")
            if base and grown and base.rps and grown.rps:
                # The phases run minutes apart: each phase's ratio to its partner, measured
                # in alternation with it, takes out what the machine did in between. The plain
                # loss is reported beside it, with no bar.
                if base.paired and grown.paired:
                    loss = round(100 * (1 - grown.paired.ratio / base.paired.ratio), 1)
                    out.append(_target(f"{key}: loss 10^4 -> 10^6 tokens, each phase ÷ "
                                       f"{base.paired_with} (%)", loss, 10.0,
                                       higher_is_better=False))
                loss = round(100 * (1 - grown.rps / base.rps), 1)
                out.append(_target(f"{key}: loss 10^4 -> 10^6 tokens, req/s (%)", loss,
                                   None if base.paired and grown.paired else 10.0,
                                   higher_is_better=False))
        accounts = self.settings.get("accounts")
        rows = "10^6" if accounts == 1_000_000 else f"{accounts:,}" if accounts else "all"
        for key, where in (("name_query_c1", "1 connection"), ("name_query", "64 connections")):
            name = row(key)
            out.append(_target(f"WHERE Name = p99 over {rows} rows, {where} (ms)",
                               name.measured.median.p99_ms if name and name.measured else None,
                               10.0, higher_is_better=False))
        peak = max((r.rss_mib or 0 for r in self.rows
                    if (r.backend, r.server) == (backend, server)), default=0)
        out.append(_target("peak RSS per worker (MiB)", peak or None, MAX_RSS_MIB,
                           higher_is_better=False))
        warm = self.startup.get(f"localforce/{backend}/{server} warm")
        out.append(_target("first 200 after start (s)", warm, MAX_STARTUP_S,
                           higher_is_better=False))
        return out

    # -- output ---------------------------------------------------------------------------

    def table(self) -> str:
        head = ("scenario", "server", "backend", "phase", "req/s", "p50 ms", "p99 ms", "errors",
                "RSS MiB/worker", "CPU ms/req", "÷peer", "÷floor", "÷raw")
        lines = [head]
        for r in self.rows:
            name = f"{r.key}"
            if r.unavailable:
                lines.append((name, r.server, r.backend, r.phase, "not available yet", "", "",
                              "", "", "", "", "", ""))
                continue
            m = r.measured
            assert m is not None
            lines.append((name, r.server, r.backend, r.phase, f"{m.median.rps:,.0f}",
                          f"{m.median.p50_ms:.1f}", f"{m.median.p99_ms:.1f}",
                          f"{m.errors}" + (" FLAGGED" if r.flagged else ""),
                          f"{r.rss_mib:.0f}" if r.rss_mib else "",
                          _fmt(r.cpu_ms_per_request, 3), self._ratio(r, "peer"),
                          self._ratio(r, "floor"), _fmt(r.vs_raw)))
        table = _markdown(lines)
        if any(r.paired for r in self.rows):
            table += ("\n\n* measured in alternation with that partner, run by run: the "
                      "median of the runs' ratios")
        return table

    @staticmethod
    def _ratio(row: Row, kind: str) -> str:
        value = _fmt(getattr(row, f"vs_{kind}"))
        paired = row.paired is not None and (row.paired_with or "").startswith(f"{kind}.")
        return value + "*" if value and paired else value

    def targets_table(self, backend: str, server: str) -> str:
        lines = [("target", "measured", "bar", "met")]
        for t in self.targets(backend, server):
            met = "n/a" if t["met"] is None else ("yes" if t["met"] else "NO")
            bar = "" if t["bar"] is None else \
                ("≥ " if t["higher_is_better"] else "≤ ") + str(t["bar"])
            lines.append((t["name"], "" if t["value"] is None else str(t["value"]), bar, met))
        return _markdown(lines)

    def as_json(self) -> dict[str, Any]:
        return {"machine": machine(), "settings": self.settings, "startup_s": self.startup,
                "servers": self.servers,
                "results": [r.as_json() for r in self.rows],
                "targets": {f"{b}/{s}": self.targets(b, s) for b, s in self.combos()},
                "notes": self.notes}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=2) + "\n")
        tmp.replace(path)


def _target(name: str, value: float | None, bar: float | None, higher_is_better: bool = True
            ) -> dict[str, Any]:
    """A bar's target (``bar`` None: a figure reported beside them, met neither way)."""
    met = None if value is None or bar is None else \
        (value >= bar if higher_is_better else value <= bar)
    return {"name": name, "value": value, "bar": bar, "higher_is_better": higher_is_better,
            "met": met}


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _markdown(lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def fmt(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])])


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": mem_gib,
            "python": platform.python_version(), "kernel": platform.release(),
            # Other work on the machine shows here: the figures are only as quiet as this.
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            "node": _version(["node", "--version"]), "wrk": _version(["wrk", "-v"])}


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) \
        else ""
