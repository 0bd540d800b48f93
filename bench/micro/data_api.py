"""CPU per data-API request, in process: the app as ``localforce serve`` builds it, driven
through its ASGI interface (no sockets, no wrk), beside a bare Starlette GET on the same driver.

    .venv/bin/python bench/micro/data_api.py [--n 2000] [--profile] [--database-url URL]

Prints CPU ms/request (``time.process_time``) for ``/query`` (the bench's ``SELECT Id,Name
FROM Account LIMIT 5``), the ``WHERE Name =`` query, a retrieve and the floor. For iterating
on the request path; ``make bench`` is what the README quotes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from localforce.bootstrap import build
from localforce.security.secretbox import generate_key
from localforce.settings import Settings
from localforce.web.app import create_app
from localforce.web.logging import configure_logging

sys.path.insert(0, str(Path(__file__).resolve().parent))
from asgi import cpu_ms  # noqa: E402


async def measure(app: Any, path: str, query: str, headers: list[tuple[bytes, bytes]],
                  n: int) -> float:
    return await cpu_ms(app, n, "GET", path, query=query, headers=headers)


def floor_app() -> Starlette:
    return Starlette(routes=[Route("/hello", lambda r: JSONResponse({"hello": "world"}))])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="pyinstrument the /query loop")
    parser.add_argument("--profile-http", default="",
                        help="pyinstrument one case (query, name_query, retrieve) through the app")
    parser.add_argument("--database-url", default="",
                        help="an empty database to use (e.g. PostgreSQL); default: a new SQLite "
                             "file")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lf-micro-"))
    settings = Settings(home=home, database_url=args.database_url or f"sqlite:///{home / 'lf.db'}",
                        secret_key=generate_key(), public_url="http://testserver",
                        daily_api_requests=1_000_000_000)
    services = build(settings)
    org = services.directory.create_org("Bench")
    user, _ = services.directory.create_user(org.id, "admin@bench.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Admin")
    token = services.oauth.issuer.issue_session(user).access_token
    principal = services.oauth.sessions.resolve(token)
    ids = [services.data.records.create(principal, "Account", {"Name": f"Bench Account {i}"})
           for i in range(5)]
    account_id = ids[0].id
    app = create_app(services)
    configure_logging(stream=open(os.devnull, "w"))  # the request log is still formatted
    auth = [(b"authorization", f"Bearer {token}".encode())]
    v = "/services/data/v62.0"
    cases = {
        "query": (f"{v}/query", "q=" + urllib.parse.quote_plus(
            "SELECT Id,Name FROM Account LIMIT 5")),
        "name_query": (f"{v}/query", "q=" + urllib.parse.quote_plus(
            "SELECT Id,Name FROM Account WHERE Name = 'Bench Account 3'")),
        "retrieve": (f"{v}/sobjects/Account/{account_id}", ""),
    }
    loop = asyncio.new_event_loop()
    floor = loop.run_until_complete(measure(floor_app(), "/hello", "", [], args.n))
    print(f"floor.get              {floor:7.3f} ms CPU/request")
    if args.profile:  # the threadpool part of a /query request, on this thread
        from pyinstrument import Profiler
        soql = "SELECT Id,Name FROM Account LIMIT 5"
        with Profiler(interval=0.0002) as profiler:
            for _ in range(args.n):
                caller = services.oauth.sessions.resolve(token)
                services.limits.allocation.consume(caller.org_id)
                services.data.queries.query(caller, soql, "62.0")
        print(profiler.output_text(color=False, show_all=False))
    if args.profile_http:
        from pyinstrument import Profiler
        path, query = cases[args.profile_http]
        with Profiler(interval=0.0001, async_mode="enabled") as profiler:
            loop.run_until_complete(measure(app, path, query, auth, args.n))
        print(profiler.output_text(color=False, show_all=False))
    for name, (path, query) in cases.items():
        ms = loop.run_until_complete(measure(app, path, query, auth, args.n))
        print(f"localforce.{name:12} {ms:7.3f} ms CPU/request   ÷floor {floor / ms:.3f}")
    services.close()


if __name__ == "__main__":
    main()
