"""Transport middleware: the Salesforce host alias, HTTPS-only credentials, HSTS."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from localforce.bootstrap import Services
from localforce.web.app import create_app
from localforce.web.middleware import HSTS_VALUE, Hsts, HttpsRequired, SalesforceHostAlias

REMOTE = ("203.0.113.7", 40000)
LOOPBACK = ("127.0.0.1", 40000)
REFUSED = {"error": "invalid_request", "error_description": "HTTPS required"}


async def echo(request: Request) -> Response:
    return JSONResponse({"path": request.url.path, "raw": request.scope["raw_path"].decode(),
                         "query": request.url.query})


def echo_app(trusted: tuple[str, ...] = ()) -> Starlette:
    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])], middleware=[
        Middleware(Hsts), Middleware(SalesforceHostAlias),
        Middleware(HttpsRequired, trusted_proxies=trusted)])


def client(base_url: str = "http://testserver", peer: tuple[str, int] = LOOPBACK,
           trusted: tuple[str, ...] = ()) -> TestClient:
    return TestClient(echo_app(trusted), base_url=base_url, client=peer)


# -- /{label}.salesforce.com/services/... ----------------------------------------------------

@pytest.mark.parametrize(("path", "served"), [
    ("/login.salesforce.com/services/oauth2/token", "/services/oauth2/token"),
    ("/test.salesforce.com/services/Soap/u/59.0", "/services/Soap/u/59.0"),
    ("/acme.my.salesforce.com/services/oauth2/token", "/services/oauth2/token"),
    ("/acme--uat.sandbox.my.salesforce.com/services/data/v59.0/query/",
     "/services/data/v59.0/query/"),
])
def test_salesforce_host_paths_are_served_as_services(path: str, served: str) -> None:
    response = client().get(path, params={"q": "SELECT Id FROM Account"})
    assert response.json() == {"path": served, "raw": served, "query": "q=SELECT+Id+FROM+Account"}


@pytest.mark.parametrize("path", [
    "/login.salesforce.com/other", "/login.salesforce.com", "/evil.com/services/data",
    "/login.salesforce.community/services/data", "/x/login.salesforce.com/services/data",
])
def test_other_paths_are_left_alone(path: str) -> None:
    assert client().get(path).json()["path"] == path


def served_path(path: str) -> tuple[str, bytes]:
    """Straight through the ASGI middleware: HTTP clients read ``//x`` as a host."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, _receive: Receive, _send: Send) -> None:
        seen.update(path=scope["path"], raw=scope["raw_path"])

    scope = {"type": "http", "path": path, "raw_path": path.encode(), "headers": []}
    asyncio.run(SalesforceHostAlias(app)(scope, None, None))  # type: ignore[arg-type]
    return seen["path"], seen["raw"]


@pytest.mark.parametrize(("path", "served"), [
    ("//services/data/v62.0/query", "/services/data/v62.0/query"),
    ("///services/data", "/services/data"),
    ("//other/services/data", "//other/services/data"),
])
def test_a_doubled_leading_slash_is_served_as_one(path: str, served: str) -> None:
    """sf stores ``--instance-url`` with a trailing slash; jsforce then asks for
    ``//services/...``."""
    assert served_path(path) == (served, served.encode())


def test_alias_through_the_app_serves_the_versions_list(services: Services) -> None:
    response = TestClient(create_app(services)).get("/login.salesforce.com/services/data")
    assert response.status_code == 200
    assert response.json()[-1]["url"] == "/services/data/v62.0"


# -- HTTPS required at the token and authorize endpoints ---------------------------------------

def test_token_endpoint_over_http_from_a_remote_peer_is_refused_as_salesforce_does() -> None:
    response = client(peer=REMOTE).post("/services/oauth2/token",
                                        data={"grant_type": "password", "username": "u"})
    assert response.status_code == 400
    assert response.json() == REFUSED
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert "no-store" in response.headers["cache-control"]


def test_the_alias_cannot_dodge_the_https_rule() -> None:
    response = client(peer=REMOTE).post("/login.salesforce.com/services/oauth2/token")
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_authorize_over_http_from_a_remote_peer_gets_an_error_page_not_a_redirect() -> None:
    response = client(peer=REMOTE).get(
        "/services/oauth2/authorize", follow_redirects=False,
        params={"response_type": "code", "client_id": "x", "redirect_uri": "https://evil.test/"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "error=invalid_request&amp;error_description=HTTPS required" in response.text
    assert "location" not in response.headers


def test_rfc8628_device_code_endpoint_over_http_from_a_remote_peer_is_refused() -> None:
    response = client(peer=REMOTE).post("/services/oauth2/device/code", data={"client_id": "x"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_pushed_authorization_requests_over_http_from_a_remote_peer_are_refused() -> None:
    response = client(peer=REMOTE).post("/services/oauth2/par", data={"client_id": "x"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_activation_page_over_http_from_a_remote_peer_is_an_error_page() -> None:
    response = client(peer=REMOTE).post("/setup/connect", data={"user_code": "ABCD1234"})
    assert response.status_code == 400
    assert "error=invalid_request&amp;error_description=HTTPS required" in response.text


def test_setup_over_http_from_a_remote_peer_is_refused() -> None:
    for response in (client(peer=REMOTE).get("/setup"),
                     client(peer=REMOTE).post("/setup/login", data={"username": "a@b.c"})):
        assert response.status_code == 400
        assert "HTTPS required" in response.text


def test_soap_login_over_http_from_a_remote_peer_is_a_soap_fault() -> None:
    response = client(peer=REMOTE).post(
        "/services/Soap/u/59.0", content=b"<env:Envelope/>",
        headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert response.status_code == 500
    assert "<faultcode>sf:UNSUPPORTED_CLIENT</faultcode>" in response.text
    assert "<faultstring>UNSUPPORTED_CLIENT: HTTPS Required</faultstring>" in response.text
    assert "<sf:exceptionCode>UNSUPPORTED_CLIENT</sf:exceptionCode>" in response.text
    assert "<sessionId>" not in response.text


def test_soap_login_through_the_alias_cannot_dodge_the_rule() -> None:
    response = client(peer=REMOTE).post("/login.salesforce.com/services/Soap/u/59.0")
    assert response.status_code == 500 and "UNSUPPORTED_CLIENT" in response.text


@pytest.mark.parametrize("peer", [LOOPBACK, ("::1", 40000), ("127.0.0.5", 1)])
def test_loopback_peers_may_use_plain_http(peer: tuple[str, int]) -> None:
    response = client(peer=peer).post("/services/oauth2/token")
    assert response.json()["path"] == "/services/oauth2/token"


def test_https_requests_from_remote_peers_pass() -> None:
    response = client("https://localforce.test", peer=REMOTE).post("/services/oauth2/token")
    assert response.json()["path"] == "/services/oauth2/token"


@pytest.mark.parametrize("path", ["/services/data", "/healthz", "/.well-known/openid-configuration",
                                  "/id/keys"])
def test_endpoints_without_credentials_are_not_affected(path: str) -> None:
    response = client(peer=REMOTE).get(path)
    assert response.json()["path"] == path


@pytest.mark.parametrize("path", ["/services/oauth2/introspect", "/services/oauth2/revoke",
                                  "/services/oauth2/userinfo"])
def test_token_taking_oauth_endpoints_over_http_from_a_remote_peer_are_refused(
        path: str) -> None:
    response = client(peer=REMOTE).post(path)
    assert (response.status_code, response.json()) == (400, REFUSED)


@pytest.mark.parametrize("path", ["/services/data/v59.0/query", "/services/data/v59.0/",
                                  "/services/async/59.0/job"])
def test_the_apis_over_http_from_a_remote_peer_are_refused(path: str) -> None:
    response = client(peer=REMOTE).get(path)
    assert (response.status_code, response.json()) == (403, [{
        "errorCode": "UNSUPPORTED_CLIENT", "message": "HTTPS Required"}])


@pytest.mark.parametrize("path", ["/id/00D000000000001AAA/005000000000001AAA",
                                  "/logout", "/settings/connected-apps", "/setup/users"])
def test_identity_and_form_pages_over_http_from_a_remote_peer_are_refused(path: str) -> None:
    assert client(peer=REMOTE).get(path).status_code == 400


def test_a_trusted_proxy_saying_https_in_forwarded_is_believed() -> None:
    proxied = client(peer=("10.0.0.2", 5000), trusted=("10.0.0.0/24",))
    for header in ("for=198.51.100.1;proto=https", 'for="[2001:db8::1]:4711";proto=HTTPS',
                   "for=192.0.2.1;proto=http, for=198.51.100.1;proto=https"):
        response = proxied.post("/services/oauth2/token", headers={"Forwarded": header})
        assert response.json()["path"] == "/services/oauth2/token", header


def test_a_trusted_proxy_forwarding_plain_http_in_forwarded_is_refused() -> None:
    proxied = client(peer=("10.0.0.2", 5000), trusted=("10.0.0.0/24",))
    for header in ("for=198.51.100.1", "for=198.51.100.1;proto=http",
                   "for=198.51.100.1;proto=https, for=192.0.2.1;proto=http"):
        response = proxied.post("/services/oauth2/token", headers={"Forwarded": header})
        assert (response.status_code, response.json()) == (400, REFUSED), header


def test_a_local_proxy_sending_only_forwarded_does_not_make_its_clients_local() -> None:
    for trusted in ((), ("127.0.0.1",)):
        relayed = client(peer=LOOPBACK, trusted=trusted).post(
            "/services/oauth2/token", headers={"Forwarded": "for=198.51.100.1"})
        assert (relayed.status_code, relayed.json()) == (400, REFUSED), trusted


def test_an_untrusted_local_proxy_relaying_plain_http_is_refused() -> None:
    relayed = client(peer=LOOPBACK).post("/services/oauth2/token",
                                         headers={"X-Forwarded-For": "198.51.100.1"})
    assert (relayed.status_code, relayed.json()) == (400, REFUSED)


def test_forwarded_proto_from_an_untrusted_peer_is_ignored() -> None:
    response = client(peer=REMOTE, trusted=("10.0.0.0/24",)).post(
        "/services/oauth2/token", headers={"Forwarded": "for=198.51.100.1;proto=https"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_a_trusted_proxy_saying_https_is_believed() -> None:
    proxied = client(peer=("10.0.0.2", 5000), trusted=("10.0.0.0/24",))
    response = proxied.post("/services/oauth2/token",
                            headers={"X-Forwarded-Proto": "https",
                                     "X-Forwarded-For": "198.51.100.1"})
    assert response.json()["path"] == "/services/oauth2/token"


def test_a_trusted_proxy_forwarding_plain_http_from_a_remote_client_is_refused() -> None:
    proxied = client(peer=("10.0.0.2", 5000), trusted=("10.0.0.0/24",))
    response = proxied.post("/services/oauth2/token",
                            headers={"X-Forwarded-Proto": "http",
                                     "X-Forwarded-For": "198.51.100.1"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_a_trusted_proxy_on_loopback_does_not_make_remote_clients_loopback() -> None:
    proxied = client(peer=LOOPBACK, trusted=("127.0.0.1",))
    response = proxied.post("/services/oauth2/token",
                            headers={"X-Forwarded-For": "198.51.100.1"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_x_forwarded_proto_from_an_untrusted_peer_is_ignored() -> None:
    response = client(peer=REMOTE, trusted=("10.0.0.0/24",)).post(
        "/services/oauth2/token", headers={"X-Forwarded-Proto": "https"})
    assert (response.status_code, response.json()) == (400, REFUSED)


def test_the_app_refuses_plain_http_from_remote_peers(services: Services) -> None:
    response = TestClient(create_app(services), client=REMOTE).post(
        "/services/oauth2/token", data={"grant_type": "client_credentials"})
    assert (response.status_code, response.json()) == (400, REFUSED)


# -- HSTS ----------------------------------------------------------------------------------

@pytest.mark.parametrize("base", ["https://localforce.test", "https://127.0.0.1:8443",
                                  "https://[::1]:8443"])
def test_https_responses_carry_hsts(base: str) -> None:
    response = client(base).get("/services/data")
    assert response.headers["strict-transport-security"] == HSTS_VALUE


def test_refusals_and_errors_over_https_carry_hsts_too(services: Services) -> None:
    response = TestClient(create_app(services), base_url="https://localforce.test").get(
        "/services/data/v59.0/nope")
    assert response.status_code == 404
    assert response.headers["strict-transport-security"] == HSTS_VALUE


@pytest.mark.parametrize("base", ["http://localforce.test", "https://localhost:8443",
                                  "https://app.localhost"])
def test_no_hsts_over_http_nor_for_localhost(base: str) -> None:
    """A browser that pinned localhost would upgrade sf's http://localhost:1717 callback."""
    assert "strict-transport-security" not in client(base).get("/x").headers
