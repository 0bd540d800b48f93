"""Unauthenticated discovery endpoints, through the ASGI app."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.web.app import create_app
from localforce.web.routes.meta import OPENAPI_PATH

DOCS_OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


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


def test_the_openapi_description_is_published_as_in_docs(services: Services) -> None:
    response = TestClient(create_app(services)).get(OPENAPI_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.content == DOCS_OPENAPI.read_bytes()
    assert response.json()["openapi"] == "3.1.0"


def test_every_described_operation_is_served(services: Services) -> None:
    """Each path and method of the description reaches its endpoint (no 404 or 405 of the
    router), asked without credentials."""
    client = TestClient(create_app(services))
    values = {"version": "v62.0", "sobject": "Account", "id": "001000000000000AAA"}
    described = json.loads(DOCS_OPENAPI.read_text())["paths"]
    assert set(described) >= {"/services/oauth2/token", "/services/oauth2/introspect",
                              "/services/oauth2/revoke", "/services/data/{version}/query",
                              "/services/data/{version}/sobjects/{sobject}/{id}",
                              "/services/data/{version}/composite",
                              "/services/data/{version}/composite/sobjects"}
    for template, operations in described.items():
        path = template.format(**{**values, "version": "62.0"} if "Soap" in template
                               else values)
        for method in operations:
            response = client.request(method.upper(), path)
            assert response.status_code not in (404, 405), (method, path, response.text)


def test_a_method_an_oauth_endpoint_does_not_take_is_a_405_in_oauth_shape(
        services: Services) -> None:
    """Found by schemathesis: PUT on the token endpoint answered 405 in plain text."""
    client = TestClient(create_app(services), client=("127.0.0.1", 40000))
    for path in ("/services/oauth2/token", "/services/oauth2/revoke"):
        response = client.put(path)
        assert (response.status_code, response.json()) == (
            405, {"error": "invalid_request", "error_description": "Method Not Allowed"})
        assert "POST" in response.headers["allow"]
        assert "no-store" in response.headers["cache-control"]
