"""A tiny stdlib HTTP client for probes and set-up calls (127.0.0.1 only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def call(url: str, method: str = "GET", body: str = "", auth: str = "",
         content_type: str = "application/x-www-form-urlencoded") -> tuple[int, Any]:
    """(status, parsed JSON or text). Never raises for an HTTP error status."""
    headers = {"Authorization": auth} if auth else {}
    data = None
    if method != "GET":
        data = body.encode()
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
