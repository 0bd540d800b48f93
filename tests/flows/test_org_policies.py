"""Org settings set in Setup (Password Policies, Session Settings, the API allocation, Network
Access) are enforced where the server reads them: the lockout of every password login, the
data API's allocation, browser and SOAP sessions and access tokens, and the security token an
API login from outside the trusted IP ranges needs. Each change is one SetupAuditTrail entry;
bad values are refused next to their field with what was typed kept."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import FixedClock
from tests.flows.browser_forms import forms
from tests.flows.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World
from tests.flows.test_setup_console import audit_actions, log_in

from localforce.domain.models import IpRange, OrgPolicies
from localforce.oauth.credentials import FOREVER
from localforce.security.tokens import digest

SPENT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}
SOAP = ('<?xml version="1.0" encoding="utf-8"?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:n1="urn:partner.soap.sforce.com"><env:Body><n1:login>'
        '<n1:username>{}</n1:username><n1:password>{}</n1:password>'
        '</n1:login></env:Body></env:Envelope>')
USER = "worker@acme.test"


@pytest.fixture
def admin(world: World) -> World:
    world.services.directory.create_user(world.org.id, USER, PASSWORD, "Standard User",
                                         security_token=SECURITY_TOKEN)
    log_in(world.client, world.user.username)
    return world


def save_org(world: World, expect: int = 303, **fields: str) -> Any:
    """Post the org settings form as shown, with ``fields`` changed."""
    page = world.client.get("/setup/org").text
    form = next(f for f in forms(page) if f.action == "/setup/org")
    data = {**form.fields, **fields}
    done = world.client.post("/setup/org", data=data, follow_redirects=False)
    assert done.status_code == expect, done.text
    return done


def grant(world: World, password: str, username: str = USER) -> Any:
    return world.token(grant_type="password", client_id=KEY, client_secret=SECRET,
                       username=username, password=password)


def soap_login(world: World, password: str) -> Any:
    return world.client.post("/services/Soap/u/59.0", content=SOAP.format(USER, password),
                             headers={"Content-Type": "text/xml", "SOAPAction": "login"})


def policies(world: World) -> OrgPolicies:
    org = world.services.directory.store.get_org(world.org.id)
    assert org is not None
    return org.policies


def test_the_page_shows_the_server_settings_as_the_orgs_defaults(admin: World) -> None:
    page = admin.client.get("/setup/org").text
    form = next(f for f in forms(page) if f.action == "/setup/org")
    assert {k: form.fields[k] for k in ("lockout_attempts", "lockout_minutes",
                                        "session_timeout_minutes", "daily_api_requests",
                                        "trusted_ip_ranges")} == {
        "lockout_attempts": "10", "lockout_minutes": "15", "session_timeout_minutes": "120",
        "daily_api_requests": "15000", "trusted_ip_ranges": ""}
    assert '<option value="0">No limit</option>' in page
    assert '<option value="0">Forever (until an admin unlocks)</option>' in page
    # Saving it unchanged sets nothing: the org keeps following the server's settings.
    save_org(admin)
    assert policies(admin) == OrgPolicies()
    assert audit_actions(admin) == []


def test_lockout_after_three_attempts_set_from_setup(admin: World, clock: FixedClock) -> None:
    save_org(admin, lockout_attempts="3", lockout_minutes="30")
    assert policies(admin) == OrgPolicies(lockout_attempts=3, lockout_minutes=30)
    assert audit_actions(admin) == ["changedLockoutAttempts", "changedLockoutPeriod"]
    trail = {c.action: c for c in admin.services.directory.store.list_setup_changes(
        admin.org.id)}
    assert trail["changedLockoutAttempts"].display == (
        "Changed maximum invalid login attempts from 10 to 3")
    assert trail["changedLockoutAttempts"].section == "Password Policies"
    assert trail["changedLockoutPeriod"].display == (
        "Changed lockout effective period from 15 minutes to 30 minutes")
    for _ in range(3):
        assert grant(admin, "wrong").json() == AUTH_FAILURE
    right = grant(admin, PASSWORD + SECURITY_TOKEN)
    assert (right.status_code, right.json()) == (400, AUTH_FAILURE)
    clock.advance(30 * 60 - 1)
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 400
    clock.advance(1)
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 200


def test_a_lockout_period_of_forever_lasts_until_an_admin_unlocks(admin: World,
                                                                  clock: FixedClock) -> None:
    save_org(admin, lockout_attempts="3", lockout_minutes="0")
    for _ in range(3):
        grant(admin, "wrong")
    user = admin.services.directory.store.find_user(USER)
    assert user is not None and user.locked_until is not None
    assert user.locked_until.timestamp() == FOREVER
    clock.advance(400 * 86400)
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 400
    admin.services.directory.unlock(user)
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 200


def test_no_limit_never_locks(admin: World) -> None:
    save_org(admin, lockout_attempts="0")
    for _ in range(12):
        grant(admin, "wrong")
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 200


def test_a_small_api_allocation_set_from_setup_refuses_the_next_request(admin: World) -> None:
    save_org(admin, daily_api_requests="2")
    token = grant(admin, PASSWORD + SECURITY_TOKEN).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = admin.client.get("/services/data/v59.0/limits", headers=headers)
    assert first.json()["DailyApiRequests"] == {"Max": 2, "Remaining": 1}
    assert first.headers["sforce-limit-info"] == "api-usage=1/2"
    assert admin.client.get("/services/data/v59.0/sobjects", headers=headers).status_code == 200
    spent = admin.client.get("/services/data/v59.0/sobjects", headers=headers)
    assert (spent.status_code, spent.json()) == (403, SPENT)
    assert "of 2" in admin.client.get("/setup/api-usage").text
    # Raised again: requests go through at once (the org row's cache was emptied by the save).
    save_org(admin, daily_api_requests="100")
    assert admin.client.get("/services/data/v59.0/sobjects", headers=headers).status_code == 200
    assert audit_actions(admin) == ["changedApiRequestAllocation"] * 2


def test_inside_the_trusted_ranges_an_api_login_needs_no_security_token(admin: World) -> None:
    # Today's behaviour without ranges: the token is required.
    assert grant(admin, PASSWORD).status_code == 400
    save_org(admin, trusted_ip_ranges="127.0.0.1-127.0.0.255\n::1-::1")
    assert policies(admin).trusted_ip_ranges == (IpRange("127.0.0.1", "127.0.0.255"),
                                                 IpRange("::1", "::1"))
    assert audit_actions(admin) == ["addedTrustedIpRange"] * 2
    assert grant(admin, PASSWORD).status_code == 200
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 200  # appended still works
    assert grant(admin, "wrong").status_code == 400
    assert soap_login(admin, PASSWORD).status_code == 200
    # The test client is 127.0.0.1: a range elsewhere does not cover it.
    save_org(admin, trusted_ip_ranges="10.0.0.0-10.0.0.255")
    assert sorted(audit_actions(admin)) == ["addedTrustedIpRange"] * 3 + [
        "deletedTrustedIpRange"] * 2
    assert grant(admin, PASSWORD).json() == AUTH_FAILURE
    assert soap_login(admin, PASSWORD).status_code == 500
    assert grant(admin, PASSWORD + SECURITY_TOKEN).status_code == 200
    assert soap_login(admin, PASSWORD + SECURITY_TOKEN).status_code == 200


def test_the_session_timeout_is_the_access_tokens_and_the_soap_sessions(admin: World) -> None:
    save_org(admin, session_timeout_minutes="15")
    assert audit_actions(admin) == ["changedSessionTimeout"]
    tokens = admin.services.oauth.tokens
    issued = grant(admin, PASSWORD + SECURITY_TOKEN).json()["access_token"]
    record = tokens.find(digest(issued))
    assert record is not None and record.idle_timeout == 15 * 60
    soap = soap_login(admin, PASSWORD + SECURITY_TOKEN).text
    assert "<sessionSecondsValid>900</sessionSecondsValid>" in soap
    # An app with a timeout of its own keeps it.
    admin.save_app(session_timeout_minutes=60)
    issued = grant(admin, PASSWORD + SECURITY_TOKEN).json()["access_token"]
    record = tokens.find(digest(issued))
    assert record is not None and record.idle_timeout == 60 * 60


def test_a_shortened_session_timeout_ends_running_browser_sessions(admin: World,
                                                                   clock: FixedClock) -> None:
    clock.advance(20 * 60)
    assert admin.client.get("/setup", follow_redirects=False).status_code == 200
    save_org(admin, session_timeout_minutes="15")
    home = admin.client.get("/setup", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (302, "/setup/login")
    log_in(admin.client, admin.user.username)
    clock.advance(15 * 60 - 1)
    assert admin.client.get("/setup", follow_redirects=False).status_code == 200
    clock.advance(1)
    assert admin.client.get("/setup", follow_redirects=False).status_code == 302


def test_a_new_login_cookie_lives_as_long_as_the_orgs_session(admin: World) -> None:
    save_org(admin, session_timeout_minutes="30")
    page = admin.client.get("/setup/login")
    form = next(f for f in forms(page.text) if f.action == "/setup/login")
    done = admin.client.post("/setup/login", data={**form.fields,
                                                   "username": admin.user.username,
                                                   "password": PASSWORD},
                             follow_redirects=False)
    assert done.status_code == 303 and "Max-Age=1800" in done.headers["set-cookie"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("trusted_ip_ranges", "10.0.0.9-10.0.0.1", "the start address comes after the end"),
    ("trusted_ip_ranges", "10.0.0.1-::1", "both be IPv4 or both IPv6"),
    ("trusted_ip_ranges", "10.0.0.300", "does not appear to be an IPv4 or IPv6 address"),
    ("lockout_attempts", "4", "must be one of 3, 5, 10 or 0 (no limit)"),
    ("lockout_minutes", "45", "must be one of 15, 30, 60 or 0 (until an admin unlocks)"),
    ("session_timeout_minutes", "90", "must be one of 15, 30, 60, 120, 240, 480, 720, 1440"),
    ("daily_api_requests", "0", "must be between 1 and 1000000000"),
    ("daily_api_requests", "many", "must be a whole number"),
])
def test_bad_values_are_refused_next_to_their_field(admin: World, field: str, value: str,
                                                    message: str) -> None:
    bad = save_org(admin, 400, **{field: value, "lockout_attempts": "5"}
                   if field != "lockout_attempts" else {field: value})
    assert f'id="{field}-error">' in bad.text and message in bad.text
    assert 'aria-invalid="true"' in bad.text
    if field in ("trusted_ip_ranges", "daily_api_requests"):
        assert value in bad.text  # what was typed is kept
    assert policies(admin) == OrgPolicies()  # nothing saved, the good field neither
    assert audit_actions(admin) == []


def test_the_org_form_refuses_a_missing_or_wrong_csrf_token(admin: World) -> None:
    page = admin.client.get("/setup/org").text
    fields = next(f for f in forms(page) if f.action == "/setup/org").fields
    for token in (None, "0" * 64):
        data = {k: v for k, v in fields.items() if k != "csrf_token"}
        data["lockout_attempts"] = "3"
        if token:
            data["csrf_token"] = token
        assert admin.client.post("/setup/org", data=data).status_code == 403
    assert policies(admin) == OrgPolicies()


def test_a_non_admin_cannot_change_org_settings(admin: World) -> None:
    admin.client.cookies.clear()
    log_in(admin.client, USER)
    page = admin.client.get("/setup/login").text  # a CSRF token of this browser
    token = next(f for f in forms(page) if f.action == "/setup/login").fields["csrf_token"]
    refused = admin.client.post("/setup/org", data={"csrf_token": token,
                                                    "lockout_attempts": "3"})
    assert refused.status_code == 403 and "Insufficient privileges" in refused.text
    assert policies(admin) == OrgPolicies()
