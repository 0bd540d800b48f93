"""The floor of `make bench`: a bare Starlette app under the same server settings as localforce.

``GET /hello`` answers a small JSON document; ``POST /token`` parses a form with
``request.form()`` (as a Starlette endpoint naturally would) and answers a token-shaped JSON
document with ``Cache-Control: no-store`` — no crypto, no database. localforce's figures are
quoted as ratios of these two.

``raw`` is the second floor: the same two answers from a raw ASGI callable (no framework: the
body read from ``receive``, the form parsed with ``urllib.parse``, the JSON from a prebuilt
header list), i.e. what the HTTP server itself costs on this machine.

Served by ``--factory floor_app:create`` (or ``floor_app:raw``) under the server that
``localforce serve`` runs, with its settings.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


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
