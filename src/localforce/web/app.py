"""create_app(services) -> the Starlette ASGI app: route table, middleware, error handlers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from localforce.bootstrap import Services
from localforce.web.errors import EXCEPTION_HANDLERS
from localforce.web.routes import meta


def create_app(services: Services) -> Starlette:
    routes: list[BaseRoute] = []
    for module in (meta,):
        routes.extend(module.routes(services))
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    app.state.services = services
    return app
