"""ASGI entry point for uvicorn workers: ``uvicorn --factory localforce.web.asgi:create``.

Settings come from the environment (``localforce serve`` exports its options as
``LOCALFORCE_*`` before starting workers). Migrations have already run in the parent.
"""

from __future__ import annotations

import gc

from starlette.types import ASGIApp

from localforce.bootstrap import build
from localforce.settings import Settings
from localforce.web.app import create_app
from localforce.web.logging import configure_logging
from localforce.web.servers import follow_supervisor


def create() -> ASGIApp:
    follow_supervisor()
    configure_logging()
    settings = Settings()
    if settings.test_control_key:  # started for tests (localforce.testing)
        from localforce.web.testcontrol import OffsetClock, TestControl

        clock = OffsetClock()
        services = build(settings, clock=clock, migrate=False)
        return _settled(TestControl(create_app(services, background=True), services, clock,
                                    settings.test_control_key))
    return _settled(create_app(build(Settings(), migrate=False), background=True))


def _settled(app: ASGIApp) -> ASGIApp:
    """The worker's app, once built: everything made so far (modules, the app, its services)
    lives as long as the worker, so it leaves the cyclic collector's generations
    (``gc.freeze``). A full collection, which walks every tracked object and holds the loop
    meanwhile, then walks only what requests made since: the latency spikes of the grants and
    introspection under load (bench/README.md, twenty-first pass). Only served workers do
    this; an app built in a test process is collected as before."""
    gc.freeze()
    return app


def create_bounded() -> ASGIApp:
    """``create`` with the request head bounded in the app (``serve --server uvicorn``: its
    httptools parser takes headers of any size; granian bounds them itself)."""
    from localforce.web.requestsize import HeaderLimit

    return HeaderLimit(create())
