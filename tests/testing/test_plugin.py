"""The pytest plugin's ``localforce_org``: a real server per seed, reset between tests, its
clock and faults; and clock and fault control refused by a server not started for tests."""

from __future__ import annotations

import httpx
import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from localforce.client import InvalidSession
from localforce.testing import Org

pytestmark = pytest.mark.clients


def test_the_org_serves_simple_salesforce_and_the_sdk(localforce_org: Org) -> None:
    sf = Salesforce(**localforce_org.simple_salesforce_kwargs())
    created = sf.Account.create({"Name": "Plugin Test"})
    with localforce_org.client() as session:
        assert session.get("Account", created["id"])["Name"] == "Plugin Test"
    env = localforce_org.env()
    assert env["SF_INSTANCE_URL"] == localforce_org.base_url
    assert env["NODE_EXTRA_CA_CERTS"] == str(localforce_org.ca)


def lock_out(org: Org, http: httpx.Client) -> httpx.Response:
    """The seed's lockout: 10 failed logins; then the right password's answer."""
    user, app = org.user, org.app
    form = {"grant_type": "password", "client_id": app.consumer_key,
            "client_secret": app.consumer_secret, "username": user.username}
    for _ in range(10):
        http.post(f"{org.base_url}/services/oauth2/token", data={**form, "password": "wrong"})
    return http.post(f"{org.base_url}/services/oauth2/token",
                     data={**form, "password": user.password + user.security_token})


def test_reset_restores_records_users_tokens_and_lockouts(localforce_org: Org) -> None:
    org = localforce_org
    with org.client() as session:
        before = session.query_all("SELECT Id FROM Account")
        session.create("Account", {"Name": "Gone after reset"})
        token = session.login().access_token
    with httpx.Client(verify=org.ssl_context, trust_env=False) as http:
        assert lock_out(org, http).status_code == 400
        org.reset()
        stale = http.get(f"{org.base_url}/services/data/v62.0/limits",
                         headers={"Authorization": f"Bearer {token}"})
        assert stale.status_code == 401  # the token was issued after the snapshot
    with org.client() as session:  # no longer locked out
        assert session.query_all("SELECT Id FROM Account") == before


def test_the_clock_ends_a_lockout(localforce_org: Org) -> None:
    org = localforce_org
    with httpx.Client(verify=org.ssl_context, trust_env=False) as http:
        locked = lock_out(org, http)
        assert locked.status_code == 400, locked.text
        org.clock.advance(minutes=16)  # the 15-minute lockout is over
        with org.client() as session:
            session.login()


def test_the_clock_expires_access_tokens(localforce_org: Org) -> None:
    org = localforce_org
    with org.client() as session:
        session.limits()
        org.clock.advance(hours=3)  # past the org's 2-hour session timeout
        with httpx.Client(verify=str(org.ca), trust_env=False) as http:
            refused = http.get(f"{org.base_url}/services/data/v62.0/limits",
                               headers={"Authorization": f"Bearer {session.token.access_token}"})  # type: ignore[union-attr]
        assert refused.status_code == 401
        assert refused.json() == [{"message": "Session expired or invalid",
                                   "errorCode": "INVALID_SESSION_ID"}]
        session.limits()  # the SDK logs in again, once
        assert session.token_fetches == 2


def test_faults_reach_simple_salesforce_as_salesforce_sends_them(localforce_org: Org) -> None:
    org = localforce_org
    sf = Salesforce(**org.simple_salesforce_kwargs())
    org.faults.request_limit_exceeded()
    with pytest.raises(SalesforceRefusedRequest) as limited:
        sf.query("SELECT Id FROM Account")
    assert limited.value.content == [{"message": "TotalRequests Limit exceeded.",
                                      "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    org.faults.unavailable(retry_after=30)
    with pytest.raises(SalesforceGeneralError) as unavailable:
        sf.query("SELECT Id FROM Account")
    assert unavailable.value.status == 503
    first_session = sf.session_id
    org.faults.invalid_session()  # simple-salesforce logs in again and retries
    assert sf.query("SELECT Id FROM Account")["done"] is True
    assert sf.session_id != first_session
    org.faults.invalid_session(times=10)  # until it gives up
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    org.faults.clear()
    org.faults.slow(seconds=0.05)  # late, then answered as usual
    assert sf.query("SELECT Id FROM Account")["done"] is True


def test_the_sdk_sees_a_503_with_retry_after_and_survives_one_invalid_session(
        localforce_org: Org) -> None:
    from localforce.client import ServiceUnavailable

    org = localforce_org
    with org.client() as session:
        org.faults.unavailable(retry_after=7)
        with pytest.raises(ServiceUnavailable) as unavailable:
            session.limits()
        assert unavailable.value.retry_after == 7.0
        org.faults.invalid_session()
        session.limits()  # refreshed once and retried
        org.faults.invalid_session(times=2)
        with pytest.raises(InvalidSession):
            session.limits()


def test_control_needs_the_key(localforce_org: Org) -> None:
    with httpx.Client(verify=str(localforce_org.ca), trust_env=False) as http:
        response = http.post(f"{localforce_org.base_url}/_localforce/test/clock",
                             json={"advance": 3600})
    assert response.status_code == 403
