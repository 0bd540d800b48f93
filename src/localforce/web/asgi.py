"""ASGI entry point for uvicorn workers: ``uvicorn --factory localforce.web.asgi:create``.

Settings come from the environment (``localforce serve`` exports its options as
``LOCALFORCE_*`` before starting workers). Migrations have already run in the parent.
"""

from __future__ import annotations

from starlette.applications import Starlette

from localforce.bootstrap import build
from localforce.settings import Settings
from localforce.web.app import create_app
from localforce.web.logging import configure_logging


def create() -> Starlette:
    configure_logging()
    return create_app(build(Settings(), migrate=False))
