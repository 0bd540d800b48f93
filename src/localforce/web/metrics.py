"""``GET /metrics``: Prometheus text exposition of ``services.audit.metrics``.

Off the public surface by default: answered only to a direct loopback peer (a scraper on the
same host; a request relayed by a local reverse proxy carries ``X-Forwarded-For`` and is
refused), unless ``settings.metrics_public`` is set — then to anyone who can reach the port,
so put it behind your own network policy. Anything else gets a plain 404, as if there were no
such path. With several workers the scrape sums every worker's values (audit/metrics.py).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.web import threads
from localforce.web.clientip import direct_loopback

PATH = "/metrics"


def allowed(request: Request, public: bool) -> bool:
    return public or direct_loopback(request.scope)


def routes(services: Services) -> list[BaseRoute]:
    metrics = services.audit.metrics
    metrics.know_grant_types(services.oauth.server.grant_types)

    async def scrape(request: Request) -> Response:
        if not allowed(request, services.settings.metrics_public):
            return PlainTextResponse("Not Found", status_code=404)
        body = await threads.run(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route(PATH, scrape, methods=["GET"])]
