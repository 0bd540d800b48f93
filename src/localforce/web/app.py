"""create_app(services) -> the Starlette ASGI app: route table, middleware, error handlers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from localforce.bootstrap import Services
from localforce.web.errors import EXCEPTION_HANDLERS
from localforce.web.middleware import Hsts, HttpsRequired, SalesforceHostAlias
from localforce.web.routes import authorize, data, device, identity, meta, oauth, pages, soap


def create_app(services: Services) -> Starlette:
    routes: list[BaseRoute] = []
    for module in (meta, oauth, identity, soap, data, authorize, device, pages):
        routes.extend(module.routes(services))
    middleware = [  # outermost first
        Middleware(Hsts),
        Middleware(SalesforceHostAlias),
        Middleware(HttpsRequired, trusted_proxies=services.settings.trusted_proxies),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    app.state.services = services
    return app
