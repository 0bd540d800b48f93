"""The audit side as ``bootstrap`` wires it."""

from __future__ import annotations

from dataclasses import dataclass

from localforce.audit.metrics import Metrics
from localforce.audit.ports import ApiCallLog, AuditQueries
from localforce.audit.writer import BackgroundWriter


@dataclass
class Audit:
    calls: ApiCallLog
    writer: BackgroundWriter
    queries: AuditQueries
    metrics: Metrics

    def close(self) -> None:
        """Write what is queued (a worker shutting down keeps its last requests)."""
        self.writer.flush()
        self.writer.close()
