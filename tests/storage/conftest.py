"""Services on SQLite and PostgreSQL (``database_url``), and an org, a user and an app to own
the rows the storage contract tests write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_settings

from localforce.bootstrap import Services, build


@pytest.fixture
def svc(database_url: str, home: Path) -> Iterator[Services]:
    services = build(make_settings(home, database_url))
    yield services
    services.close()


@pytest.fixture
def ids(svc: Services) -> tuple[str, str, str]:
    """(org id, user id, the org's PlatformCLI app id)."""
    org = svc.directory.create_org("Acme")
    user, _ = svc.directory.create_user(org.id, "a@acme.test", None, "Standard User")
    app = svc.directory.store.find_app(org.id, "PlatformCLI")
    assert app is not None
    return org.id, user.id, app.id
