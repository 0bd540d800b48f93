"""Unauthenticated discovery: health and the API versions list (salesforce-wire.md §6.1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.versions import versions
from localforce.web.errors import SalesforceJSON


def routes(services: Services) -> list[BaseRoute]:
    async def healthz(_request: Request) -> Response:
        return SalesforceJSON({"status": "ok"})

    async def api_versions(_request: Request) -> Response:
        return SalesforceJSON(versions())

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/services/data", api_versions, methods=["GET"]),
        Route("/services/data/", api_versions, methods=["GET"]),
    ]
