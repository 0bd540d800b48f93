"""create_app(services) -> the Starlette ASGI app: route table, middleware, error handlers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from localforce.bootstrap import Services
from localforce.oauth.endpoints.device_authorization import VERIFICATION_PATH
from localforce.web import metrics, setup, threads
from localforce.web.apiusage import ApiUsage
from localforce.web.clientip import ClientIp, ClientIpResolver
from localforce.web.errors import EXCEPTION_HANDLERS
from localforce.web.hotpath import HotPath
from localforce.web.logging import AccessLog, Books, write_pending
from localforce.web.middleware import (
    CommitBeforeAnswer,
    Hsts,
    HttpsRequired,
    SalesforceHostAlias,
)
from localforce.web.ratelimit import LoginRateByIp
from localforce.web.requestsize import BodyLimit
from localforce.web.routes import (
    authorize,
    bulk_async,
    data,
    device,
    identity,
    meta,
    oauth,
    pages,
    soap,
)
from localforce.web.setup.console import LOGIN_PATH as SETUP_LOGIN


def create_app(services: Services, background: bool = False) -> HotPath:
    """``background``: run the Bulk job runner and, unless ``settings.maintenance`` is off,
    the scheduled maintenance in this process (``serve``'s workers).

    The hot endpoints are served by the lean dispatcher (web/hotpath.py), every other request
    by the Starlette app behind it; both apply the same rules, configured once here."""
    routes: list[BaseRoute] = []
    for module in (meta, oauth, identity, soap, data, bulk_async, authorize, device, pages,
                   setup, metrics):
        routes.extend(module.routes(services))
    trusted = services.settings.trusted_proxies
    access_log: dict[str, Any] = {"books": Books(services.audit.metrics,
                                                 ApiUsage(services.audit, services.clock))}
    login_rate: dict[str, Any] = {"limiter": services.limits.logins,
                                  "extra_paths": (VERIFICATION_PATH, SETUP_LOGIN),
                                  "exempt_loopback": not services.settings.rate_limit_loopback}
    middleware = [  # outermost first
        Middleware(Hsts),
        Middleware(SalesforceHostAlias),
        Middleware(ClientIp, trusted_proxies=trusted),
        Middleware(AccessLog, **access_log),
        Middleware(CommitBeforeAnswer),
        Middleware(HttpsRequired, trusted_proxies=trusted),
        Middleware(LoginRateByIp, **login_rate),
        Middleware(BodyLimit),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=_lifespan(services, background),
                    exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    app.state.services = services
    return HotPath(app, services, ClientIpResolver(trusted), AccessLog(app, **access_log),
                   HttpsRequired(app, trusted_proxies=trusted), LoginRateByIp(app, **login_rate))


def _lifespan(services: Services, background: bool
              ) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threads.install(services.settings.request_threads)
        if background:
            services.bulk.runner.start()
            if services.settings.maintenance:
                services.maintenance.start()
        yield
        services.maintenance.stop()
        services.bulk.runner.stop()
        # A worker stopping: the API requests it counted in memory go to the shared counter,
        # and the usage log entries its writer still holds (it batches) to the database.
        services.limits.flush()
        services.audit.writer.flush()  # with the requests' books (web/logging.py)
        write_pending()  # their access lines: this loop may not run another pass

    return lifespan
