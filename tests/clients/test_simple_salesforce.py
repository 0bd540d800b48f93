"""simple-salesforce, unmodified, against ``serve --tls`` through its hard-coded hosts.

simple-salesforce builds every login URL as ``https://{domain}.salesforce.com/...``; with
``domain="127.0.0.1:PORT/login"`` that is ``https://127.0.0.1:PORT/login.salesforce.com/...``,
which localforce serves as ``/services/...`` (clients.md §1 mechanism A). The CA is trusted the
way the README says, with ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import re

import pytest
from simple_salesforce import Salesforce
from tests.clients.server import PROXY_VARS, LiveServer

pytestmark = pytest.mark.clients

SESSION = re.compile(r"^00D\w{12,15}![.\w]+$")


@pytest.fixture
def server(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live_server.ca))
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return live_server


def assert_logged_in(sf: Salesforce, server: LiveServer) -> None:
    assert SESSION.match(sf.session_id), sf.session_id
    assert sf.session_id.startswith(server.org_id[:15] + "!")
    assert sf.sf_instance == server.hostport
    assert sf.base_url == f"https://{server.hostport}/services/data/v59.0/"
    # A data call with the session proves the server took it.
    users = sf.query(f"SELECT Id, Username FROM User WHERE Username = '{server.username}'")
    assert [r["Username"] for r in users["records"]] == [server.username]


def revoke(server: LiveServer, token: str) -> None:
    with server.http() as client:
        assert client.post("/services/oauth2/revoke", data={"token": token}).status_code == 200


def test_soap_login_through_the_login_alias(server: LiveServer) -> None:
    sf = Salesforce(username=server.username, password=server.password,
                    security_token=server.security_token, domain=f"{server.hostport}/login")
    assert_logged_in(sf, server)


def test_password_grant_through_the_login_alias(server: LiveServer) -> None:
    # With ``security_token=`` simple-salesforce would log in by SOAP; the OAuth password grant
    # is used when the token is appended to the password and a consumer key/secret is given.
    sf = Salesforce(username=server.username,
                    password=server.password + server.security_token,
                    consumer_key=server.consumer_key, consumer_secret=server.consumer_secret,
                    domain=f"{server.hostport}/login")
    assert_logged_in(sf, server)


def test_jwt_bearer_with_the_alias_audience(server: LiveServer) -> None:
    """The assertion's ``aud`` is ``https://127.0.0.1:PORT/login.salesforce.com``."""
    sf = Salesforce(username=server.username, consumer_key=server.consumer_key,
                    privatekey_file=str(server.jwt_key), domain=f"{server.hostport}/login")
    assert_logged_in(sf, server)


def test_client_credentials_through_the_alias(server: LiveServer) -> None:
    sf = Salesforce(consumer_key=server.consumer_key, consumer_secret=server.consumer_secret,
                    domain=f"{server.hostport}/login")
    assert_logged_in(sf, server)


def test_a_wrong_password_is_a_salesforce_authentication_failure(server: LiveServer) -> None:
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        Salesforce(username=server.username, password="wrong", security_token="",
                   domain=f"{server.hostport}/login")
    assert failed.value.code == "INVALID_LOGIN"


@pytest.mark.parametrize("flow", ["soap", "password"])
def test_after_the_token_is_revoked_the_next_call_logs_in_again(server: LiveServer,
                                                                flow: str) -> None:
    extra = ({"consumer_key": server.consumer_key, "consumer_secret": server.consumer_secret}
             if flow == "password" else {})
    sf = Salesforce(username=server.username, password=server.password,
                    security_token=server.security_token, domain=f"{server.hostport}/login",
                    **extra)
    first = sf.session_id
    assert sf.query("SELECT Id FROM User")["totalSize"] >= 1
    revoke(server, first)
    with server.http() as client:  # the old session is really dead
        dead = client.get("/services/data/v59.0/query", params={"q": "SELECT Id FROM User"},
                          headers={"Authorization": f"Bearer {first}"})
    assert dead.status_code == 401
    result = sf.query("SELECT Id FROM User")
    assert result["totalSize"] >= 1 and result["done"] is True
    assert sf.session_id != first and SESSION.match(sf.session_id)


def test_data_calls_with_an_instance_url_and_a_session(server: LiveServer) -> None:
    """clients.md §1 mechanism D: ``Salesforce(session_id=, instance_url=)``."""
    sf = Salesforce(session_id=server.access_token(), instance_url=server.url)
    assert sf.query("SELECT Username FROM User")["records"][0]["Username"] == server.username
