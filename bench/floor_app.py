"""The floor of `make bench`: a bare Starlette app under the same server settings as localforce.

``GET /hello`` answers a small JSON document; ``POST /token`` parses a form with
``request.form()`` (as a Starlette endpoint naturally would) and answers a token-shaped JSON
document with ``Cache-Control: no-store`` — no crypto, no database. localforce's figures are
quoted as ratios of these two.

Served by ``uvicorn --factory floor_app:create`` with the settings ``localforce serve`` uses.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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
