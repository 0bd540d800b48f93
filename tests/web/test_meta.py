"""Unauthenticated discovery endpoints, through the ASGI app."""

from __future__ import annotations

from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.web.app import create_app


def test_healthz(services: Services) -> None:
    response = TestClient(create_app(services)).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json;charset=UTF-8"


def test_versions_list_needs_no_auth_with_or_without_slash(services: Services) -> None:
    client = TestClient(create_app(services))
    for path in ("/services/data", "/services/data/"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
        assert body[-1] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}
        assert [v["version"] for v in body] == [f"{n}.0" for n in range(31, 63)]
        assert response.headers["content-type"] == "application/json;charset=UTF-8"


def test_unknown_data_path_is_salesforce_not_found(services: Services) -> None:
    response = TestClient(create_app(services), client=("127.0.0.1", 50000)).get(
        "/services/data/v59.0/nope/nothing")
    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist",
                                "errorCode": "NOT_FOUND"}]
