"""The floor of `make bench`: a bare Starlette app under the same server settings as localforce.

``GET /hello`` answers a small JSON document; ``POST /token`` parses a form with
``request.form()`` (as a Starlette endpoint naturally would) and answers a token-shaped JSON
document with ``Cache-Control: no-store`` — no crypto, no database. localforce's figures are
quoted as ratios of these two.

``raw`` is the second floor: the same two answers from a raw ASGI callable (no framework: the
body read from ``receive``, the form parsed with ``urllib.parse``, the JSON from a prebuilt
header list), i.e. what the HTTP server itself costs on this machine.

``store`` is the third, per database: the raw callable answering ``GET /query`` with the
SELECT localforce runs for the bench's ``SELECT Id,Name FROM Account LIMIT 5`` (same table, same
10^6 rows, same statement shape), read the cheapest way this stack knows, and shaped as
Salesforce's query answer by ``orjson``. On SQLite the read runs on the event loop (as
localforce's does); on PostgreSQL on localforce's own request threads (``web/threads.py``,
its default two), each with its own connection, through libpq's prepared statement, the
reads asked for meanwhile together in one pipeline (``threads.READS``; as
storage/sql/raw_reads.py does). What no localforce code adds: authentication, the API limit,
SOQL, the access and usage logs. ``FLOOR_DATABASE_URL`` and ``FLOOR_ORG_ID`` name the database
and the org whose Accounts it reads.

Served by ``--factory floor_app:create`` (or ``floor_app:raw``, ``floor_app:store``) under the
server that ``localforce serve`` runs, with its settings.
"""

from __future__ import annotations

import json
import os
import select
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from localforce.commits import Read
from localforce.web import threads


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


async def token(request: Request) -> JSONResponse:
    form = await request.form()
    return JSONResponse(
        {"access_token": "00D000000000001!floor", "token_type": "Bearer",
         "scope": str(form.get("scope", "api")), "issued_at": "1790000000000"},
        headers={"Cache-Control": "no-store"})


def create() -> Starlette:
    return Starlette(routes=[Route("/hello", hello), Route("/token", token, methods=["POST"])])


_HELLO = json.dumps({"hello": "world"}).encode()


def raw() -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to start or stop
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["method"] == "POST" and scope["path"] == "/token":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            form = dict(parse_qsl(body.decode("latin-1")))
            answer = json.dumps({"access_token": "00D000000000001!floor", "token_type": "Bearer",
                                 "scope": form.get("scope", "api"),
                                 "issued_at": "1790000000000"}).encode()
            extra = [(b"cache-control", b"no-store")]
        elif scope["path"] == "/hello":
            answer, extra = _HELLO, []
        else:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer)).encode()), *extra]})
        await send({"type": "http.response.body", "body": answer})

    return app


#: localforce's statement for the bench query (a page of LIMIT + 1 rows: the extra row says
#: whether another page follows), its placeholders per driver.
_PAGE = ('SELECT t0."Id", t0."Name" FROM sobject_account AS t0 WHERE t0.org_id = {0} '
         'AND t0."IsDeleted" = {1} ORDER BY t0."Id" ASC LIMIT {2} OFFSET {3}')
_LIMIT = 5
_JSON_HEADERS = [(b"content-type", b"application/json;charset=UTF-8")]


def store() -> ASGIApp:
    url, org_id = os.environ["FLOOR_DATABASE_URL"], os.environ["FLOOR_ORG_ID"]
    read = _sqlite_reader(url, org_id) if url.startswith("sqlite") else _pg_reader(url, org_id)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        if scope["path"] == "/hello":
            answer = _HELLO
        elif scope["path"] == "/query":
            rows = await read()
            answer = orjson.dumps({"totalSize": min(len(rows), _LIMIT), "done": True,
                                   "records": [_record(i, name) for i, name in rows[:_LIMIT]]})
        else:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            *_JSON_HEADERS, (b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})

    return app


def _record(record_id: str, name: str) -> dict[str, Any]:
    return {"attributes": {"type": "Account",
                           "url": f"/services/data/v62.0/sobjects/Account/{record_id}"},
            "Id": record_id, "Name": name}


def _sqlite_reader(url: str, org_id: str) -> Callable[[], Any]:
    import sqlite3

    path = url.split(":///", 1)[1]
    sql = _PAGE.format("?", "?", "?", "?")
    params = (org_id, 0, _LIMIT + 1, 0)
    connection: list[sqlite3.Connection] = []  # opened in the worker, at its first read

    async def read() -> list[tuple[str, str]]:
        if not connection:
            connection.append(sqlite3.connect(path, isolation_level=None))
        return connection[0].execute(sql, params).fetchall()

    return read


def _pg_reader(url: str, org_id: str) -> Callable[[], Any]:
    import psycopg
    from psycopg import pq

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    sql = _PAGE.format("$1", "$2", "$3", "$4").encode()
    params = [org_id.encode(), b"false", str(_LIMIT + 1).encode(), b"0"]
    local = threading.local()

    def rows(result: Any) -> list[tuple[str, str]]:
        return [(result.get_value(i, 0).decode(), result.get_value(i, 1).decode())
                for i in range(result.ntuples)]

    class Pages:
        """The pages asked for while a batch was on its way, read in one pipeline (as
        localforce's ``RawReads.run_many``), on the request thread the batch runs on."""

        def run_many(self, reads: list[Read]) -> list[Any]:
            pgconn = getattr(local, "pgconn", None)
            if pgconn is None:
                connection = local.connection = psycopg.connect(conninfo, autocommit=True)
                pgconn = local.pgconn = connection.pgconn
                pgconn.prepare(b"page", sql)
            if len(reads) == 1:
                return [rows(pgconn.exec_prepared(b"page", params))]
            pgconn.enter_pipeline_mode()
            for _ in reads:
                pgconn.send_query_prepared(b"page", params)
            pgconn.pipeline_sync()
            out = []
            while True:
                pgconn.consume_input()
                while not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:
                        continue
                    if result.status == pq.ExecStatus.PIPELINE_SYNC:
                        pgconn.exit_pipeline_mode()
                        return out
                    out.append(rows(result))
                select.select([pgconn.socket], [], [])

    pages = Pages()

    async def read() -> list[tuple[str, str]]:
        # localforce's own hand-off of reads run apart, to its request threads
        return await threads.READS.fetch(Read(pages, None))  # type: ignore[no-any-return]

    return read
