"""Hostile input against a real server (``localforce serve`` on loopback): whatever a client
sends, the answer is never a 5xx (SOAP faults excepted), never a stack trace, and always in
the surface's error shape — OAuth ``{error, error_description}``, the data API's
``[{message, errorCode}]``.

Seeded and bounded: ``LOCALFORCE_FUZZ_EXAMPLES`` cases per test (default 150, in ``make
test``); ``make fuzz`` runs ten times as many. The poisoned inputs found by hand (issue #20:
non-finite numbers, invalid UTF-8, lone surrogates, NaN, deep nesting, giant integers) are
always among the cases.

The hand-written strategies are joined by schemathesis over the OpenAPI 3.1 description the
server publishes (``/services/data/openapi.json``, docs/openapi.json): every operation it
describes, with inputs that fit the description and inputs that break it, under the same
property (a third of ``LOCALFORCE_FUZZ_EXAMPLES`` per operation, derandomized).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.clients.server import LiveServer, start_server, stop_server

from localforce.web.routes.meta import openapi_description

EXAMPLES = int(os.environ.get("LOCALFORCE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("fuzz") / "server", tls=False)
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.http() as client:
        yield client


@pytest.fixture(scope="module")
def bearer(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.access_token()}"}


def no_stack_trace(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text and 'File "' not in response.text


def oauth_shape(response: httpx.Response) -> None:
    no_stack_trace(response)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error"} and isinstance(body["error"], str), body


def data_shape(response: httpx.Response) -> None:
    no_stack_trace(response)
    if response.status_code >= 400 and response.status_code != 405:
        body = response.json()
        assert isinstance(body, list) and body, body
        for item in body:
            assert isinstance(item["message"], str) and isinstance(item["errorCode"], str), body


text = st.text(max_size=60)
json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=12)
ACCOUNT_FIELDS = ["Name", "Industry", "AnnualRevenue", "NumberOfEmployees", "ParentId",
                  "OwnerId", "BillingCity", "Website", "Phone", "Type", "Rating", "Id",
                  "CreatedDate", "Nope__c", "attributes"]
records = st.dictionaries(st.sampled_from(ACCOUNT_FIELDS), json_values, max_size=6)
SOQL_WORDS = ["SELECT", "Id", "Name", ",", "FROM", "Account", "Contact", "WHERE", "=", "!=",
              "'x'", "(", ")", "AND", "OR", "NOT", "LIKE", "IN", "LIMIT", "5", "OFFSET",
              "ORDER BY", "GROUP BY", "COUNT()", "COUNT(Id)", "Account.Name", "TODAY",
              "LAST_N_DAYS:99999999999", "null", "true", "1e400", "FIELDS(ALL)", ":", "\\",
              "'", "\u00d6", "\x00", "TYPEOF", "USING SCOPE", "HAVING", "ASC", "NULLS"]
soql = st.lists(st.sampled_from(SOQL_WORDS) | text, min_size=1, max_size=14).map(" ".join)
GRANTS = ["password", "client_credentials", "refresh_token", "authorization_code",
          "urn:ietf:params:oauth:grant-type:jwt-bearer",
          "urn:ietf:params:oauth:grant-type:device_code", "device", "", "x"]
forms = st.fixed_dictionaries(
    {"grant_type": st.sampled_from(GRANTS)},
    optional={"client_id": text, "client_secret": text, "username": text, "password": text,
              "refresh_token": text, "code": text, "assertion": text, "scope": text,
              "redirect_uri": text, "code_verifier": text, "token": text,
              "token_type_hint": text})
POISON = [b'{"Name": "Deal", "Amount": 1e400}', b'{"Name": "\xff\xfe"}',
          b'{"Name": "\\ud800"}', b'{"Name": NaN}', b'{"AnnualRevenue": -Infinity}',
          b"[" * 50_000 + b"]" * 50_000, b'{"NumberOfEmployees": ' + b"9" * 100_000 + b"}",
          b"", b"null", b"{", b'"a"']


@FUZZ
@given(form=forms)
def test_token_endpoint(http: httpx.Client, form: dict[str, str]) -> None:
    oauth_shape(http.post("/services/oauth2/token", data=form))


@FUZZ
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/json", "text/plain", ""]),
       path=st.sampled_from(["/services/oauth2/token", "/services/oauth2/introspect",
                             "/services/oauth2/revoke"]))
@example(raw=b"grant_type=password&" + b"f=1&" * 2000, content_type=(
    "application/x-www-form-urlencoded"), path="/services/oauth2/token")
def test_oauth_endpoints_take_any_bytes(http: httpx.Client, raw: bytes, content_type: str,
                                        path: str) -> None:
    oauth_shape(http.post(path, content=raw, headers={"Content-Type": content_type}))


@FUZZ
@given(form=st.dictionaries(st.sampled_from(
    ["token", "token_type_hint", "client_id", "client_secret"]), text, max_size=4))
def test_introspect_and_revoke(http: httpx.Client, form: dict[str, str]) -> None:
    oauth_shape(http.post("/services/oauth2/introspect", data=form))
    oauth_shape(http.post("/services/oauth2/revoke", data=form))


@FUZZ
@given(envelope=text | st.sampled_from([
    "<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'>"
    "<soapenv:Body><login><username>a</username><password>b</password></login>"
    "</soapenv:Body></soapenv:Envelope>",
    "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "<" * 5000]))
def test_soap_login(http: httpx.Client, envelope: str) -> None:
    response = http.post("/services/Soap/u/62.0", content=envelope.encode(),
                         headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert "Traceback" not in response.text and "root:" not in response.text
    assert response.status_code < 500 or "Fault" in response.text, response.text[:300]


@FUZZ
@given(q=soql)
def test_query(http: httpx.Client, bearer: dict[str, str], q: str) -> None:
    data_shape(http.get(f"{V}/query", params={"q": q}, headers=bearer))


@FUZZ
@given(body=records | json_values)
@example(body={"Name": "x", "NumberOfEmployees": 10**20})
@example(body={"Name": "x", "AnnualRevenue": 1.7e308})
def test_create_and_update(http: httpx.Client, bearer: dict[str, str], body: Any) -> None:
    created = http.post(f"{V}/sobjects/Account", json=body, headers=bearer)
    data_shape(created)
    target = created.json()["id"] if created.status_code == 201 else "001000000000000AAA"
    data_shape(http.patch(f"{V}/sobjects/Account/{target}", json=body, headers=bearer))


@FUZZ
@given(raw=st.sampled_from(POISON) | st.binary(max_size=200),
       path=st.sampled_from(["/sobjects/Account", "/composite/sobjects", "/composite",
                             "/composite/tree/Account", "/sobjects/Account/Name/x"]))
def test_raw_bodies(http: httpx.Client, bearer: dict[str, str], raw: bytes,
                    path: str) -> None:
    method = "PATCH" if path.endswith("/x") else "POST"
    response = http.request(method, V + path, content=raw,
                            headers={**bearer, "Content-Type": "application/json"})
    data_shape(response)


@FUZZ
@given(requests=st.lists(st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "POST", "PATCH", "DELETE", "HEAD", "PUT", "X"]),
    "url": st.sampled_from([f"{V}/sobjects/Account", f"{V}/query?q=SELECT+Id+FROM+Account",
                            f"{V}/sobjects/Account/@{{a.id}}", "/etc/passwd", "", V]) | text,
    "referenceId": st.sampled_from(["a", "b", "", "a b"]),
    "body": json_values}), max_size=4), all_or_none=st.booleans() | json_scalars)
def test_composite_and_collections(http: httpx.Client, bearer: dict[str, str],
                                   requests: list[dict[str, Any]], all_or_none: Any) -> None:
    data_shape(http.post(f"{V}/composite", json={"allOrNone": all_or_none,
                                                 "compositeRequest": requests},
                         headers=bearer))
    records_ = [r["body"] for r in requests]
    data_shape(http.post(f"{V}/composite/sobjects", content=json.dumps(
        {"allOrNone": all_or_none, "records": records_}), headers={
        **bearer, "Content-Type": "application/json"}))


#: The description the server publishes (tests/web/test_meta.py: the same bytes), loaded at
#: collection; each case is sent to the module's server.
described = schemathesis.openapi.from_dict(json.loads(openapi_description()))
described.config.generation.update(max_examples=max(10, EXAMPLES // 3), deterministic=True,
                                   database="none")


@pytest.fixture(scope="module")
def session() -> Any:
    with requests.Session() as plain:
        plain.trust_env = False  # no proxy from the environment for loopback
        yield plain


@described.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_described_operation(case: schemathesis.Case, server: LiveServer,
                                   session: requests.Session, bearer: dict[str, str]) -> None:
    path = case.operation.path
    headers = bearer if path.startswith("/services/data/") else None
    response = case.call(base_url=server.url, session=session, headers=headers)
    if path.startswith("/services/Soap/"):
        assert "Traceback" not in response.text
        assert response.status_code < 500 or "Fault" in response.text, response.text[:300]
    elif path.startswith("/services/oauth2/"):
        oauth_shape(response)  # type: ignore[arg-type]
    else:
        data_shape(response)  # type: ignore[arg-type]
