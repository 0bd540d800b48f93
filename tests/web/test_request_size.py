"""Request sizes are bounded (issue #16): each oversize request is sent to a real ``localforce
serve`` and refused in its surface's shape, never with a 5xx or after being held whole.

A body declared over the limit is sent as its head alone: the answer comes before any of the
body, so nothing of it was waited for. A chunked body is sent for real, one byte past the limit.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.clients.server import LiveServer, start_server, stop_server

from localforce.web.requestsize import (
    MAX_BULK_BODY,
    MAX_DATA_BODY,
    MAX_FORM_BODY,
    MAX_HEADER_BYTES,
    HeaderLimit,
)

V = "/services/data/v62.0"
DATA_413 = [{"message": "The size of the message sent to the API exceeded 50 MB.",
             "errorCode": "EXCEEDED_MAX_SIZE_REQUEST"}]
OAUTH_413 = {"error": "invalid_request", "error_description": "request body larger than 1 MB"}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("sizes") / "server", tls=False)
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.http() as client:
        yield client


@pytest.fixture(scope="module")
def bearer(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.access_token()}"}


def head_only(server: LiveServer, method: str, path: str, headers: dict[str, str]
              ) -> tuple[int, dict[str, str], bytes]:
    """Send a request's line and headers and no body; the answer (status, headers, body)."""
    host, port = server.url.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}",
             *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        while len(body) < int(answer.get("content-length", "0")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(status_line.split()[1]), answer, body


def chunks(total: int, first: bytes = b"", piece: int = 1024 * 1024) -> Iterator[bytes]:
    """``total`` bytes, ``first`` then spaces, sent chunked (httpx does for a generator)."""
    yield first
    left = total - len(first)
    while left > 0:
        yield b" " * min(piece, left)
        left -= piece


@pytest.mark.parametrize("path", ["/services/oauth2/token", "/services/oauth2/introspect",
                                  "/services/oauth2/revoke"])
def test_an_oauth_form_over_a_megabyte_is_413_in_oauth_shape(
        server: LiveServer, http: httpx.Client, path: str) -> None:
    status, headers, body = head_only(server, "POST", path, {
        "Content-Type": FORM, "Content-Length": str(MAX_FORM_BODY + 1)})
    assert (status, json.loads(body)) == (413, OAUTH_413)
    assert "no-store" in headers["cache-control"]
    chunked = http.post(path, content=chunks(MAX_FORM_BODY + 1, b"grant_type=password&x="),
                        headers={"Content-Type": FORM})
    assert (chunked.status_code, chunked.json()) == (413, OAUTH_413)
    # At the limit it is read and answered as any bad request.
    at_limit = b"grant_type=password&x=" + b"a" * (MAX_FORM_BODY - 22)
    assert http.post(path, content=at_limit, headers={"Content-Type": FORM}).status_code \
        in (400, 401)


def test_a_data_api_body_over_50_mb_is_413_exceeded_max_size_request(
        server: LiveServer, http: httpx.Client, bearer: dict[str, str]) -> None:
    for path in (f"{V}/sobjects/Account", f"{V}/composite/sobjects", f"{V}/composite",
                 f"{V}/sobjects/Account/001000000000000AAA"):
        method = "PATCH" if path.endswith("AAA") else "POST"
        status, _, body = head_only(server, method, path, {
            **bearer, "Content-Type": "application/json",
            "Content-Length": str(MAX_DATA_BODY + 1)})
        assert (status, json.loads(body)) == (413, DATA_413), path
    chunked = http.post(f"{V}/sobjects/Account", content=chunks(MAX_DATA_BODY + 1, b"{"),
                        headers={**bearer, "Content-Type": "application/json"})
    assert (chunked.status_code, chunked.json()) == (413, DATA_413)
    record = b'{"Name": "Fifty megabytes"}'
    exactly = record + b" " * (MAX_DATA_BODY - len(record))
    created = http.post(f"{V}/sobjects/Account", content=exactly,
                        headers={**bearer, "Content-Type": "application/json"})
    assert created.status_code == 201, created.text


def test_a_bulk_upload_over_150_mb_is_413_and_the_job_still_takes_its_data(
        server: LiveServer, http: httpx.Client, bearer: dict[str, str]) -> None:
    job = http.post(f"{V}/jobs/ingest", headers=bearer,
                    json={"object": "Account", "operation": "insert"}).json()["id"]
    status, _, body = head_only(server, "PUT", f"{V}/jobs/ingest/{job}/batches", {
        **bearer, "Content-Type": "text/csv", "Content-Length": str(MAX_BULK_BODY + 1)})
    assert (status, json.loads(body)) == (413, [{
        "message": "The size of the message sent to the API exceeded 150 MB.",
        "errorCode": "EXCEEDED_MAX_SIZE_REQUEST"}])
    upload = http.put(f"{V}/jobs/ingest/{job}/batches", content=b"Name\nBulk one\n",
                      headers={**bearer, "Content-Type": "text/csv"})
    assert upload.status_code == 201, upload.text


def test_a_bulk_1_request_over_150_mb_is_413_in_its_own_shape(
        server: LiveServer, bearer: dict[str, str]) -> None:
    status, _, body = head_only(server, "POST", "/services/async/62.0/job", {
        "X-SFDC-Session": bearer["Authorization"].removeprefix("Bearer "),
        "Content-Type": "application/xml", "Content-Length": str(MAX_BULK_BODY + 1)})
    assert status == 413
    assert b"<exceptionCode>EXCEEDED_MAX_SIZE_REQUEST</exceptionCode>" in body, body


def test_a_soap_login_over_a_megabyte_is_a_413_fault(server: LiveServer) -> None:
    status, _, body = head_only(server, "POST", "/services/Soap/u/62.0", {
        "Content-Type": "text/xml", "SOAPAction": "login",
        "Content-Length": str(MAX_FORM_BODY + 1)})
    assert status == 413
    assert b"<faultcode>sf:EXCEEDED_MAX_SIZE_REQUEST</faultcode>" in body, body


def test_a_page_form_over_a_megabyte_is_413(server: LiveServer, http: httpx.Client) -> None:
    status, _, body = head_only(server, "POST", "/setup/login", {
        "Content-Type": FORM, "Content-Length": str(MAX_FORM_BODY + 1)})
    assert (status, body) == (413, b"Request body larger than 1 MB")
    # More than 1,000 fields: Starlette's form parser refuses them, a 400.
    many = http.post("/setup/login", content=b"&".join(b"f%d=1" % i for i in range(1001)),
                     headers={"Content-Type": FORM})
    assert many.status_code == 400, many.text


def test_a_request_head_well_over_salesforces_16_kb_is_431(server: LiveServer) -> None:
    """granian's bound (web/servers.py ``MAX_HEAD_BYTES``, its read buffer): a head within
    Salesforce's 16,384 bytes passes; one of 48 KB is a 431, on a new connection as on one
    that already carried requests (where the buffer may have grown up to about twice the bound)."""
    with server.http() as warm:
        for _ in range(3):
            assert warm.get(f"{V}/limits", headers={"X-Pad": "a" * 15_000}).status_code == 401
        assert warm.get(f"{V}/limits", headers={"X-Pad": "a" * 48_000}).status_code == 431
    with server.http() as fresh:
        assert fresh.get(f"{V}/query", params={"q": "a" * 48_000}).status_code == 431
    with server.http() as fresh:
        assert fresh.get(f"{V}/limits", headers={f"X-H{i}": "a" for i in range(200)}
                         ).status_code == 431  # and more than 100 headers


def test_header_limit_under_uvicorn() -> None:
    """``HeaderLimit``: the bound ``serve --server uvicorn`` runs the app with."""
    app = Starlette(routes=[Route("/", lambda _r: PlainTextResponse("ok"))])
    client = TestClient(HeaderLimit(app))
    pad = MAX_HEADER_BYTES - 200
    assert client.get("/", headers={"X-Pad": "a" * pad}).status_code == 200
    big = client.get("/", headers={"X-Pad": "a" * (MAX_HEADER_BYTES + 1)})
    assert (big.status_code, big.text) == (431, "Request Header Fields Too Large")
    long_uri = client.get("/", params={"q": "a" * (MAX_HEADER_BYTES + 1)})
    assert (long_uri.status_code, long_uri.text) == (414, "URI Too Long")
