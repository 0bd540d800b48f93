"""``/metrics`` of a ``localforce serve --workers 2``: one scrape sums every worker's counters
(prometheus-client's multiprocess mode, with its folder prepared by ``serve``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from tests.clients.server import LiveServer, stop_server
from tests.policies.servers import start

#: A grant type no flow serves: counted before the answer is sent, with no database work.
SERIES = 'localforce_token_grants_total{grant_type="other",outcome="unsupported_grant_type"}'
MAX_REQUESTS = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("workers")
    live = start(root / "server", root / "shared" / "home", workers="2")
    yield live
    stop_server(live)


def _folder(server: LiveServer) -> Path:
    return server.home / "metrics" / str(server.process.pid)


def _counted(files: list[Path]) -> float:
    """The series' value in these workers' files."""
    for metric in MultiProcessCollector.merge([str(f) for f in files]):
        for sample in metric.samples:
            if sample.name == "localforce_token_grants_total" and sample.labels == {
                    "grant_type": "other", "outcome": "unsupported_grant_type"}:
                return float(sample.value)
    return 0.0


def _scraped(server: LiveServer) -> float:
    with server.http() as client:  # a new connection: whichever worker accepts it answers
        response = client.get("/metrics")
    assert response.status_code == 200
    for line in response.text.splitlines():
        if line.startswith(SERIES + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_scrape_sums_the_counters_of_every_worker(server: LiveServer) -> None:
    folder = _folder(server)
    per_worker: list[float] = []
    sent = 0
    # One connection per request; which worker accepts it is the kernel's choice, so go on
    # until both have served some (a bounded number of requests).
    while sent < MAX_REQUESTS:
        with server.http() as client:
            refused = client.post("/services/oauth2/token", data={"grant_type": "nope"})
        assert refused.json()["error"] == "unsupported_grant_type"
        sent += 1
        per_worker = [_counted([f]) for f in sorted(folder.glob("counter_*.db"))]
        if sent >= 10 and sum(1 for n in per_worker if n) >= 2:
            break
    assert len([n for n in per_worker if n]) == 2, f"one worker took all {sent} requests"
    assert sum(per_worker) == sent
    for _ in range(3):  # every scrape, from either worker, shows the total
        assert _scraped(server) == sent


def test_serve_starts_with_an_empty_folder_and_removes_it(tmp_path: Path) -> None:
    home = tmp_path / "shared" / "home"
    stale = home / "metrics" / "999999999"  # a server process that is long gone
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"old")
    live = start(tmp_path / "server", home, workers="2")
    try:
        folder = _folder(live)
        assert folder.is_dir() and not stale.exists()
        assert all(f.name.endswith(".db") for f in folder.iterdir())
    finally:
        stop_server(live)
    assert not folder.exists()
