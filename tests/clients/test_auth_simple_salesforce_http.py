"""simple-salesforce, unmodified, logging in to a real ``localforce serve`` over plain HTTP by
each non-browser flow, then querying.

simple-salesforce only speaks https to ``https://{domain}.salesforce.com``; the harness mounts
a ``requests`` adapter that sends those requests over http instead (clients.md §6), and
``domain="127.0.0.1:PORT/login"`` lands on the server's ``/login.salesforce.com`` path alias.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients


class ToHttp(HTTPAdapter):
    """Send ``https://127.0.0.1:PORT`` requests as ``http://``: the clients.md §6 recipe."""

    def __init__(self, hostport: str) -> None:
        super().__init__()
        self.hostport = hostport

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        request.url = request.url.replace(f"https://{self.hostport}",
                                          f"http://{self.hostport}", 1)
        return super().send(request, **kwargs)


@pytest.fixture
def session(live_server_http: LiveServer) -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # no proxies
    http.mount(f"https://{live_server_http.hostport}", ToHttp(live_server_http.hostport))
    return http


def queried(sf: Salesforce, server: LiveServer) -> list[str]:
    result = sf.query(f"SELECT Id, Username FROM User WHERE Username = '{server.username}'")
    return [r["Username"] for r in result["records"]]


def test_soap_login_with_security_token(live_server_http: LiveServer,
                                        session: requests.Session) -> None:
    server = live_server_http
    sf = Salesforce(username=server.username, password=server.password,
                    security_token=server.security_token, domain=f"{server.hostport}/login",
                    session=session)
    assert sf.session_id.startswith(server.org_id[:15] + "!")
    assert sf.sf_instance == server.hostport
    assert queried(sf, server) == [server.username]


def test_soap_login_without_the_token_is_invalid_login(live_server_http: LiveServer,
                                                       session: requests.Session) -> None:
    server = live_server_http
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        Salesforce(username=server.username, password=server.password, security_token="",
                   domain=f"{server.hostport}/login", session=session)
    assert failed.value.code == "INVALID_LOGIN"


def test_password_grant(live_server_http: LiveServer, session: requests.Session) -> None:
    """With ``security_token=`` simple-salesforce would use SOAP; the OAuth password grant
    takes the token appended to the password and the consumer key and secret."""
    server = live_server_http
    sf = Salesforce(username=server.username, password=server.password + server.security_token,
                    consumer_key=server.consumer_key, consumer_secret=server.consumer_secret,
                    domain=f"{server.hostport}/login", session=session)
    assert sf.auth_type == "password"
    assert queried(sf, server) == [server.username]


def test_password_grant_wrong_secret(live_server_http: LiveServer,
                                     session: requests.Session) -> None:
    server = live_server_http
    with pytest.raises(SalesforceAuthenticationFailed) as failed:
        Salesforce(username=server.username, password=server.password + server.security_token,
                   consumer_key=server.consumer_key, consumer_secret="guess",
                   domain=f"{server.hostport}/login", session=session)
    assert failed.value.code == "invalid_client"


def test_jwt_bearer_with_a_key_made_for_the_test(live_server_http: LiveServer,
                                                 session: requests.Session) -> None:
    """The fixture made the key pair and put the certificate in the seed. The token goes to
    ``instance_url``; ``aud`` stays ``https://login.salesforce.com`` and ``exp`` a string."""
    server = live_server_http
    sf = Salesforce(username=server.username, consumer_key=server.consumer_key,
                    privatekey_file=str(server.jwt_key), instance_url=f"{server.hostport}/login",
                    session=session)
    assert queried(sf, server) == [server.username]


def test_client_credentials(live_server_http: LiveServer, session: requests.Session) -> None:
    server = live_server_http
    sf = Salesforce(consumer_key=server.consumer_key, consumer_secret=server.consumer_secret,
                    domain=f"{server.hostport}/login", session=session)
    assert queried(sf, server) == [server.username]
