"""pytest fixtures: ``localforce_org`` (reset before each test) and ``localforce_org_session``.

The seed comes from ``@pytest.mark.localforce_seed("path.toml")`` (relative to the test file)
or the ``localforce_seed`` ini option (relative to the ini file); else a built-in one. One
server per seed per test session (per xdist worker), reset between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localforce.testing.org import Org, start_org


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("localforce_seed", "seed file (TOML) for the localforce_org fixture",
                  default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "localforce_seed(path): the seed file of localforce_org "
                            "for this test (relative to the test file)")


class Orgs:
    """The servers of this session, one per seed, started on first use."""

    def __init__(self, folder: pytest.TempPathFactory) -> None:
        self._folders = folder
        self._orgs: dict[Path | None, Org] = {}
        self.used: set[Path | None] = set()

    def get(self, seed: Path | None) -> Org:
        if seed not in self._orgs:
            self._orgs[seed] = start_org(self._folders.mktemp("localforce"), seed)
        return self._orgs[seed]

    def stop(self) -> None:
        for org in self._orgs.values():
            org.stop()


def _seed(request: pytest.FixtureRequest) -> Path | None:
    marker = request.node.get_closest_marker("localforce_seed")
    if marker is not None:
        return (Path(request.node.path).parent / marker.args[0]).resolve()
    configured = request.config.getini("localforce_seed")
    if configured:
        base = request.config.inipath.parent if request.config.inipath else \
            request.config.rootpath
        return (base / str(configured)).resolve()
    return None


@pytest.fixture(scope="session")
def localforce_orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orgs]:
    orgs = Orgs(tmp_path_factory)
    yield orgs
    orgs.stop()


@pytest.fixture
def localforce_org(request: pytest.FixtureRequest, localforce_orgs: Orgs) -> Org:
    """An org in its seed's state: a real server (HTTPS, its own CA) reset before the test."""
    seed = _seed(request)
    org = localforce_orgs.get(seed)
    if seed in localforce_orgs.used:
        org.reset()
    localforce_orgs.used.add(seed)
    return org


@pytest.fixture(scope="session")
def localforce_org_session(request: pytest.FixtureRequest, localforce_orgs: Orgs) -> Org:
    """The same org for a whole session (the ini option's seed), never reset for you."""
    seed = _seed(request)
    localforce_orgs.used.add(seed)
    return localforce_orgs.get(seed)
