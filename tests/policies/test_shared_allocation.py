"""One org's API allocation is one budget across processes: two ``localforce serve``
processes on one database see each other's requests and refuse together once it is spent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.clients.server import LiveServer, stop_server
from tests.policies.servers import start

LIMITS = "/services/data/v59.0/limits"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    root = tmp_path_factory.mktemp("allocation")
    home = root / "shared" / "home"
    first = start(root / "a", home, daily_api_requests="5")
    second = start(root / "b", home, daily_api_requests="5")
    yield first, second
    stop_server(first)
    stop_server(second)


def test_two_processes_share_one_allocation(pair: tuple[LiveServer, LiveServer]) -> None:
    first, second = pair
    token = first.access_token()
    seen = []
    with first.http() as a, second.http() as b:
        headers = {"Authorization": f"Bearer {token}"}
        for client in (a, b, a, b, a):
            response = client.get(LIMITS, headers=headers)
            assert response.status_code == 200, response.text
            seen.append(response.headers["Sforce-Limit-Info"])
        assert seen == [f"api-usage={n}/5" for n in range(1, 6)]
        for client in (b, a):
            spent = client.get(LIMITS, headers=headers)
            assert spent.status_code == 403
            assert spent.json() == [{"message": "TotalRequests Limit exceeded.",
                                     "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
