"""An unexpected exception answers 500 in the shape the path's clients read (issue #22: a
500 on /token carried a data-API body), with an ErrorId and never a traceback."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from localforce.bootstrap import Services
from localforce.web.app import create_app

ERROR_ID = re.compile(r"An unexpected error occurred\. Please include this ErrorId if you "
                      r"contact support: [0-9a-f]{16}$")


def boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("a bug")


@pytest.fixture
def client(services: Services, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setattr(services.oauth.server, "token", boom)
    monkeypatch.setattr(services.data, "describe_global", boom)
    return TestClient(create_app(services), base_url="http://127.0.0.1",
                      client=("127.0.0.1", 40000), raise_server_exceptions=False)


def test_the_token_endpoint_answers_oauth_json(client: TestClient) -> None:
    r = client.post("/services/oauth2/token", data={"grant_type": "client_credentials"})
    assert r.status_code == 500 and set(r.json()) == {"error", "error_description"}
    assert r.json()["error"] == "server_error"
    assert ERROR_ID.match(r.json()["error_description"])
    assert "no-store" in r.headers["cache-control"]
    assert "Traceback" not in r.text and "a bug" not in r.text


def test_the_data_api_answers_its_error_list(services: Services, client: TestClient) -> None:
    org = services.directory.create_org("Acme")
    user, _ = services.directory.create_user(org.id, "a@acme.test", None,
                                             "System Administrator")
    token = services.oauth.issuer.issue_session(user).access_token
    r = client.get("/services/data/v62.0/sobjects",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 500
    [error] = r.json()
    assert error["errorCode"] == "UNKNOWN_EXCEPTION" and ERROR_ID.match(error["message"])
