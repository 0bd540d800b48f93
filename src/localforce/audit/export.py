"""``localforce audit api --format csv|json``: the API usage log as CSV or JSON lines."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from localforce.audit.ports import ApiCall

FORMATS = ("csv", "json")
COLUMNS = ("time", *ApiCall._fields)


def iso_ms(epoch_ms: int) -> str:
    """Salesforce's datetime format: ``2026-11-30T03:50:01.000+0000``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+0000"


def _row(call: ApiCall) -> dict[str, Any]:
    return {"time": iso_ms(call.at_ms), **call._asdict()}


def write(calls: Iterable[ApiCall], out: TextIO, fmt: str) -> int:
    """Write ``calls``; returns how many. JSON is one object per line (streamable)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use csv or json")
    count = 0
    writer = csv.DictWriter(out, COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for call in calls:
        if writer is not None:
            writer.writerow(_row(call))
        else:
            out.write(json.dumps(_row(call)) + "\n")
        count += 1
    return count
