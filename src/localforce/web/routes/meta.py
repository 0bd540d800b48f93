"""Unauthenticated discovery: health, readiness, the API versions list (salesforce-wire.md §6.1)
and the OpenAPI 3.1 description of the OAuth endpoints and the data API's core resources
(``/services/data/openapi.json``: data/openapi.json, the same file as docs/openapi.json).

``/healthz`` says the process answers; ``/readyz`` (a load balancer's check, issue #15) says
whether its dependencies do: 200 ``{"status": "ready"}``, or 503 naming what is down
(``database``; ``redis`` is reported but does not make a replica unready: it has fallbacks).
"""

from __future__ import annotations

import asyncio
from importlib.resources import files

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.versions import versions
from localforce.web.errors import JSON_TYPE, RETRY_AFTER, SalesforceJSON

#: Seconds a readiness probe waits for each dependency.
PROBE_SECONDS = 2.0
OPENAPI_PATH = "/services/data/openapi.json"


def openapi_description() -> bytes:
    return files("localforce.data").joinpath("openapi.json").read_bytes()


def routes(services: Services) -> list[BaseRoute]:
    async def healthz(_request: Request) -> Response:
        return SalesforceJSON({"status": "ok"})

    def database_answers() -> bool:
        try:
            with services.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False

    def redis_answers() -> bool:
        import redis

        try:
            client = redis.Redis.from_url(services.settings.redis_url or "",
                                          socket_connect_timeout=PROBE_SECONDS,
                                          socket_timeout=PROBE_SECONDS)
            with client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    async def probe(check: object) -> bool:
        try:
            return await asyncio.wait_for(asyncio.to_thread(check), PROBE_SECONDS)  # type: ignore[arg-type]
        except TimeoutError:
            return False

    async def readyz(_request: Request) -> Response:
        checks = {"database": database_answers}
        if services.settings.redis_url:
            checks["redis"] = redis_answers
        results = dict(zip(checks, await asyncio.gather(*(probe(c) for c in checks.values())),
                           strict=True))
        down = [name for name, ok in results.items() if not ok]
        if not results["database"]:
            return SalesforceJSON({"status": "unavailable", "down": down}, status_code=503,
                                  headers={"Retry-After": RETRY_AFTER})
        return SalesforceJSON({"status": "ready", "down": down})

    async def api_versions(_request: Request) -> Response:
        return SalesforceJSON(versions())

    description = openapi_description()

    async def openapi(_request: Request) -> Response:
        return Response(description, media_type=JSON_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/services/data", api_versions, methods=["GET"]),
        Route("/services/data/", api_versions, methods=["GET"]),
        # Before the data API's /services/data/{version}, which would take it for a version.
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
    ]
