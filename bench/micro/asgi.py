"""A minimal in-process ASGI driver for the micro benchmarks: one request at a time, no
sockets, no HTTP client library, so what is timed is the app (plus a few microseconds here)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

Headers = list[tuple[bytes, bytes]]


async def call(app: Any, method: str, path: str, *, query: str = "", body: bytes = b"",
               headers: Headers = ()) -> tuple[int, bytes]:
    """One request through ``app``; returns (status, body)."""
    if body:
        headers = [*headers, (b"content-type", b"application/x-www-form-urlencoded"),
                   (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": query.encode(),
             "headers": [(b"host", b"testserver"), *headers],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {}}
    status, chunks, sent = 0, [], False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def cpu_ms(app: Any, n: int, method: str, path: str, **request: Any) -> float:
    """CPU milliseconds per request (``time.process_time``) over ``n`` requests, after 50
    warm-up requests that must all answer 200."""
    for _ in range(50):
        status, answer = await call(app, method, path, **request)
        assert status == 200, answer
    start = time.process_time()
    for _ in range(n):
        await call(app, method, path, **request)
    return (time.process_time() - start) * 1000 / n


def bench_app(home: Any) -> tuple[Any, Any, Any]:
    """``(services, app, org)``: the app built by ``bootstrap.build`` + ``web.app.create_app``
    on the SQLite home ``home`` (LOCALFORCE_HOME set by the caller) seeded with the bench org
    (bench/benchlib/org.py), its request log formatted to /dev/null."""
    import os

    from benchlib.org import Org

    from localforce.bootstrap import build
    from localforce.directory.seed import apply_seed, load_file
    from localforce.settings import Settings
    from localforce.web.app import create_app
    from localforce.web.logging import configure_logging

    org = Org.generate()
    seed = home / "seed.toml"
    seed.write_text(org.seed_toml())
    services = build(Settings())
    apply_seed(services.directory, load_file(seed))
    app = create_app(services)
    configure_logging(stream=open(os.devnull, "w"))  # the request log is still formatted
    return services, app, org


async def first_grant(app: Any, org: Any) -> tuple[dict[str, str], str]:
    """The bench app's client-credentials form and the access token of a first grant."""
    import json
    from urllib.parse import urlencode

    cc = {"grant_type": "client_credentials", **org.app.client_body()}
    status, answer = await call(app, "POST", "/services/oauth2/token",
                                body=urlencode(cc).encode())
    assert status == 200, answer
    return cc, json.loads(answer)["access_token"]
