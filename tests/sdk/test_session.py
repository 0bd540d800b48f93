"""``localforce.client`` against a real server: providers, the single-flight refresh, typed
errors, query paging and the CRUD/composite helpers."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.clients.server import LiveServer
from tests.sdk.conftest import token_requests

from localforce.client import (
    AsyncSession,
    AuthenticationError,
    ClientCredentials,
    InvalidSession,
    JwtBearer,
    MalformedRequest,
    NotFound,
    RefreshToken,
    Session,
    SignatureMismatch,
)

pytestmark = pytest.mark.clients


def revoke(server: LiveServer, token: str) -> None:
    with server.http() as http:
        response = http.post("/services/oauth2/revoke", data={"token": token})
    assert response.status_code == 200, response.text


def refreshing_session(server: LiveServer) -> Session:
    return Session(RefreshToken(server.url, server.consumer_key, server.refresh_token(),
                                client_secret=server.consumer_secret), verify=str(server.ca))


def test_client_credentials_logs_in_and_verifies_the_signature(sdk_server: LiveServer) -> None:
    with Session(ClientCredentials(sdk_server.url, sdk_server.consumer_key,
                                   sdk_server.consumer_secret), verify=str(sdk_server.ca)) as sf:
        token = sf.login()
        assert token.instance_url == sdk_server.url
        assert token.org_id == sdk_server.org_id
        assert sf.limits()["DailyApiRequests"]["Max"] == 15000
        assert sf.limit_info["api-usage"][1] == 15000
        assert sdk_server.consumer_secret not in repr(sf.core.provider)
        assert token.access_token not in repr(token)
    wrong = ClientCredentials(sdk_server.url, sdk_server.consumer_key, sdk_server.consumer_secret)
    wrong.client_secret = "not-the-secret"  # the server refuses it before any signature
    with Session(wrong, verify=str(sdk_server.ca)) as sf, pytest.raises(AuthenticationError) as e:
        sf.login()
    assert (e.value.status, e.value.error_code) == (400, "invalid_client")


def test_a_signature_made_with_another_secret_is_refused(sdk_server: LiveServer) -> None:
    """The answer is genuine but the session was told another secret: ``signature`` exposes it."""

    class Forged(ClientCredentials):
        def grant(self) -> dict[str, str]:
            return {**super().grant(), "client_secret": sdk_server.consumer_secret}

    provider = Forged(sdk_server.url, sdk_server.consumer_key, "a-different-secret")
    with Session(provider, verify=str(sdk_server.ca)) as sf, pytest.raises(SignatureMismatch):
        sf.login()


def test_jwt_bearer_with_the_audience_from_the_login_url(sdk_server: LiveServer) -> None:
    provider = JwtBearer(sdk_server.url, sdk_server.consumer_key, sdk_server.username,
                         sdk_server.jwt_key)
    with Session(provider, verify=str(sdk_server.ca)) as sf:
        assert sf.login().user_id is not None
        assert sf.query_all("SELECT Id FROM User WHERE Username = "
                            f"'{sdk_server.username}'")[0]["Id"] == sf.token.user_id  # type: ignore[union-attr]


def test_concurrent_calls_with_an_expired_token_refresh_exactly_once(
        sdk_server: LiveServer) -> None:
    sf = refreshing_session(sdk_server)
    with sf:
        first = sf.login()
        revoke(sdk_server, first.access_token)  # the access token dies, the refresh token lives
        before = token_requests(sdk_server)
        start = threading.Barrier(8)

        def call(_: int) -> int:
            start.wait()
            return len(sf.query_all("SELECT Id FROM Account LIMIT 1"))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(call, range(8)))
        assert token_requests(sdk_server) - before == 1
        assert sf.token_fetches == 2 and sf.token.access_token != first.access_token  # type: ignore[union-attr]


def test_async_callers_share_one_refresh(sdk_server: LiveServer) -> None:
    refresh = sdk_server.refresh_token()

    async def main() -> int:
        provider = RefreshToken(sdk_server.url, sdk_server.consumer_key, refresh,
                                client_secret=sdk_server.consumer_secret)
        async with AsyncSession(provider, verify=str(sdk_server.ca)) as sf:
            first = await sf.login()
            revoke(sdk_server, first.access_token)
            before = token_requests(sdk_server)
            await asyncio.gather(*(sf.limits() for _ in range(8)))
            return token_requests(sdk_server) - before

    assert asyncio.run(main()) == 1


def test_a_revoked_refresh_token_is_a_typed_error_not_a_loop(sdk_server: LiveServer) -> None:
    sf = refreshing_session(sdk_server)
    with sf:
        token = sf.login()
        revoke(sdk_server, token.refresh_token)  # type: ignore[arg-type]  # and its sessions
        before = token_requests(sdk_server)
        with pytest.raises(AuthenticationError) as refused:
            sf.limits()
        assert (refused.value.status, refused.value.error_code) == (400, "invalid_grant")
        assert refused.value.message == "expired access/refresh token"
        assert token_requests(sdk_server) - before == 1


def test_a_token_refused_after_refresh_is_invalid_session_once() -> None:
    """The server refuses every token: one refresh, one retry, then ``InvalidSession``."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": f"00D!{len(sent)}",
                                             "instance_url": "https://org.example"})
        return httpx.Response(401, json=[{"message": "Session expired or invalid",
                                          "errorCode": "INVALID_SESSION_ID"}],
                              headers={"X-Request-Id": "req-1"})

    provider = ClientCredentials("https://login.example", "key", None)
    with Session(provider, http=httpx.Client(transport=httpx.MockTransport(handler))) as sf, \
            pytest.raises(InvalidSession) as refused:
        sf.limits()
    assert sent == ["/services/oauth2/token", "/services/data/v62.0/limits",
                    "/services/oauth2/token", "/services/data/v62.0/limits"]
    assert (refused.value.status, refused.value.errorCode, refused.value.request_id) == (
        401, "INVALID_SESSION_ID", "req-1")


def test_crud_query_paging_and_errors(sdk_server: LiveServer) -> None:
    provider = ClientCredentials(sdk_server.url, sdk_server.consumer_key,
                                 sdk_server.consumer_secret)
    with Session(provider, verify=str(sdk_server.ca)) as sf:
        ids = [r["id"] for r in sf.create_many([
            {"attributes": {"type": "Account"}, "Name": f"SDK Page {i:04}"} for i in range(200)])]
        for i in range(0, 2200, 200):  # 2,200 rows: the query answers in batches of 2,000
            sf.create_many([{"attributes": {"type": "Account"}, "Name": f"SDK Bulk {i + j}"}
                            for j in range(200)])
        names = [r["Name"] for r in sf.query("SELECT Name FROM Account WHERE Name LIKE 'SDK %'")]
        assert len(names) == 2400
        account = sf.create("Account", {"Name": "SDK One", "AccountNumber": "A-1"})
        sf.update("Account", account, {"Name": "SDK Renamed"})
        assert sf.get("Account", account, ["Name"])["Name"] == "SDK Renamed"
        upserted = sf.upsert("Account", "Id", account, {"Name": "SDK Upserted"})
        assert upserted["created"] is False
        assert sf.describe("Account")["name"] == "Account"
        results = sf.composite([{"method": "GET", "referenceId": "one",
                                 "url": f"/services/data/v62.0/sobjects/Account/{account}"}])
        assert results[0]["body"]["Name"] == "SDK Upserted"
        sf.delete("Account", account)
        with pytest.raises(NotFound) as missing:
            sf.get("Account", account)
        assert (missing.value.status, missing.value.error_code) == (404, "NOT_FOUND")
        with pytest.raises(MalformedRequest) as bad:
            sf.create("Account", {"NoSuchField__c": 1})
        assert (bad.value.status, bad.value.error_code) == (400, "INVALID_FIELD")
        assert all(r["success"] for r in sf.delete_many(ids))


def test_a_server_not_started_for_tests_refuses_clock_and_faults(sdk_server: LiveServer) -> None:
    with httpx.Client(base_url=sdk_server.url, verify=str(sdk_server.ca), trust_env=False) as http:
        for path, body in (("clock", {"advance": 3600}), ("faults", {"kind": "SLOW"}),
                           ("reset", {})):
            response = http.post(f"/_localforce/test/{path}", json=body,
                                 headers={"X-Localforce-Test-Key": "guess"})
            assert response.status_code == 404, response.text
    with Session(ClientCredentials(sdk_server.url, sdk_server.consumer_key,
                                   sdk_server.consumer_secret), verify=str(sdk_server.ca)) as sf:
        sf.limits()  # its clock did not move: the token it just got is live
