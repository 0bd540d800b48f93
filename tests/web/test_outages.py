"""Dependencies away (issue #15): the database unreachable is a clean 503 with ``Retry-After``
in each surface's shape, and ``/readyz`` names what is down. (Recovery after a real restart of
PostgreSQL is not tested here yet.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.conftest import make_settings

from localforce.bootstrap import Services, build
from localforce.web.app import create_app

#: Nothing listens on port 1: the database and Redis are "down".
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def down(tmp_path: Path) -> Iterator[TestClient]:
    services: Services = build(make_settings(tmp_path / "home", DEAD_DATABASE,
                                             redis_url=DEAD_REDIS), migrate=False)
    with TestClient(create_app(services), client=("127.0.0.1", 50000),
                    raise_server_exceptions=False) as client:
        yield client
    services.close()


def test_readyz_names_the_database_and_redis(down: TestClient) -> None:
    response = down.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"status": "unavailable", "down": ["database", "redis"]}
    assert down.get("/healthz").status_code == 200  # the process itself answers


def test_readyz_on_a_working_store(services: Services) -> None:
    response = TestClient(create_app(services)).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "down": []}


def test_the_data_api_answers_server_unavailable(down: TestClient) -> None:
    response = down.get("/services/data/v62.0/limits",
                        headers={"Authorization": "Bearer 00D000000000001!abc"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == [{"message": "Server temporarily unavailable, please retry later",
                                "errorCode": "SERVER_UNAVAILABLE"}]


def test_the_token_endpoint_answers_temporarily_unavailable(down: TestClient) -> None:
    response = down.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "k", "client_secret": "s"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["cache-control"].endswith("no-store,private")
    assert response.json() == {"error": "temporarily_unavailable",
                               "error_description": "the service is temporarily unavailable"}


@pytest.mark.parametrize(("method", "path", "form"), [
    ("POST", "/services/oauth2/token", {"grant_type": "client_credentials", "client_id": "k",
                                        "client_secret": "s"}),     # the lean hot path
    ("GET", "/services/data/v62.0/limits", None),                     # hot data route
    ("GET", "/id/keys", None),                                        # Starlette's
])
def test_the_503_is_an_answer_not_an_exception_the_server_sees(
        tmp_path: Path, method: str, path: str, form: dict[str, str] | None) -> None:
    """The server closes the connection after an exception escapes the app, even once the
    answer was sent; a load balancer then drops its clients' next requests on it. A database
    outage is answered and handled, so nothing escapes."""
    services = build(make_settings(tmp_path / "home", DEAD_DATABASE), migrate=False)
    try:
        with TestClient(create_app(services), client=("127.0.0.1", 50000),
                        raise_server_exceptions=True) as client:
            response = client.request(method, path, data=form, headers={
                "Authorization": "Bearer 00D000000000001!abc"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
    finally:
        services.close()
