"""The lean dispatcher answers its routes byte for byte as the Starlette app behind it does,
applies the same rules, and leaves every other request to Starlette."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from localforce.bootstrap import Services
from localforce.web.app import create_app
from localforce.web.hotpath import HotPath
from localforce.web.middleware import HSTS_VALUE

#: The same endpoint through Starlette: the host alias is rewritten there, never taken here.
ALIAS = "/login.salesforce.com"
FORM = {"token": "00D000000000001!nope", "client_id": "nobody", "client_secret": "wrong"}


def spied(services: Services) -> tuple[HotPath, list[str]]:
    """The app, and the paths of the requests that reached Starlette."""
    app = create_app(services)
    behind, seen = app.app, []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await behind(scope, receive, send)

    app.app = recording
    return app, seen


@pytest.mark.parametrize("path", ["/services/oauth2/token", "/services/oauth2/introspect",
                                  "/services/oauth2/revoke"])
@pytest.mark.parametrize("base", ["http://127.0.0.1", "https://localforce.test"])
def test_hot_routes_answer_as_starlette_does(services: Services, path: str, base: str) -> None:
    app, seen = spied(services)
    client = TestClient(app, base_url=base, client=("127.0.0.1", 40000))
    form = dict(FORM, grant_type="client_credentials")
    lean, slow = client.post(path, data=form), client.post(ALIAS + path, data=form)
    assert seen == [ALIAS + path]  # the first one never reached Starlette
    assert (lean.status_code, lean.headers.items(), lean.content) == (
        slow.status_code, slow.headers.items(), slow.content)
    assert ("strict-transport-security" in lean.headers) == base.startswith("https")


def test_plain_http_from_a_remote_peer_is_refused_on_the_lean_path(services: Services) -> None:
    app, seen = spied(services)
    response = TestClient(app, client=("203.0.113.7", 40000)).post(
        "/services/oauth2/introspect", data=FORM)
    assert seen == []
    assert (response.status_code, response.json()) == (
        400, {"error": "invalid_request", "error_description": "HTTPS required"})


def test_hsts_on_the_lean_path(services: Services) -> None:
    response = TestClient(create_app(services), base_url="https://localforce.test").post(
        "/services/oauth2/introspect", data=FORM)
    assert response.headers["strict-transport-security"] == HSTS_VALUE


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/services/oauth2/token", {}),  # answered "must use HTTP POST" by Starlette
    ("POST", "/services/oauth2/token", {"files": {"grant_type": (None, "password")}}),
    ("POST", "/services/oauth2/token?grant_type=password", {"data": {}}),
    ("POST", "/services/oauth2/userinfo", {"data": {}}),
])
def test_everything_else_goes_to_starlette(services: Services, method: str, path: str,
                                           kwargs: dict[str, object]) -> None:
    app, seen = spied(services)
    TestClient(app).request(method, path, **kwargs)  # type: ignore[arg-type]
    assert seen == [path.partition("?")[0]]


def test_a_data_path_found_before_is_routed_by_each_requests_own_method(
        services: Services) -> None:
    app, seen = spied(services)
    client = TestClient(app, client=("127.0.0.1", 40000))
    query, limits = "/services/data/v62.0/query", "/services/data/v99.0/limits"
    answers = [client.get(query, params={"q": "SELECT Id FROM Account"}).status_code,
               client.post(query, json={}).status_code,  # not a lean route: Starlette's 405
               client.get(query).status_code,
               client.get(limits).status_code, client.get(limits).status_code]
    assert seen == [query]  # only the POST reached Starlette
    assert answers == [401, 405, 401, 404, 404]  # v99.0: the version in the path, each time
