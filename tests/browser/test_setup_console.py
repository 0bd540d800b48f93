"""The /setup admin console in real headless Chromium, as a new admin walks it: log in, create a
connected app with a certificate and client credentials (a refused http:// callback and a bad
PEM first), see the consumer details after re-entering the password (a wrong one refused), use
the app at once from simple-salesforce (JWT bearer) and a client-credentials call, rotate the
secret and see the old one refused, revoke the admin's tokens of the app, create a user, reset
their password and security token and log in with the new ones, unlock them after a lockout,
take an object away from their profile and see the API refuse it; set the org's policies (a bad
trusted IP range refused next to the field first) and log in to the API without the security
token from inside the trusted range, not from outside it; create a profile by cloning one and a
permission set by label; every change in the Setup Audit Trail. Screenshots of every page at 1280 and 390 px go to
``docs/setup/`` (the README links them)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceMalformedRequest,
)
from tests.clients.server import LiveServer
from tests.clients.test_auth_simple_salesforce_http import ToHttp
from tests.flows.browser_forms import forms
from tests.flows.conftest import make_key_pair

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "setup"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def admin(chromium: Any, browser_server: LiveServer) -> Iterator[Any]:
    """One desktop page, logged in to Setup as the seeded System Administrator."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{browser_server.url}/setup")
    assert page.url.endswith("/setup/login")
    page.fill("#username", browser_server.username)
    page.fill("#password", browser_server.password)
    page.click("#login")
    assert page.locator("h1").inner_text() == "Setup Home"
    yield page
    context.close()


def shoot(chromium: Any, admin: Any, name: str) -> None:
    """The page ``admin`` shows, at both widths, into docs/setup/NAME-WIDTH.png; at 390 px it
    must not scroll sideways."""
    DOCS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(DOCS / f"{name}-1280.png"), full_page=True)
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                 storage_state=admin.context.storage_state())
    try:
        small = phone.new_page()
        small.goto(admin.url)
        assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        small.screenshot(path=str(DOCS / f"{name}-390.png"), full_page=True)
    finally:
        phone.close()


def shown_value(page: Any) -> str:
    return str(page.locator("#shown-value").input_value())


def setup_login(server: LiveServer, username: str, password: str) -> httpx.Response:
    """The Setup login form, posted over HTTP with its CSRF token; follows to /setup."""
    with httpx.Client(base_url=server.url, trust_env=False, follow_redirects=True) as client:
        page = client.get("/setup/login")
        token = forms(page.text)[0].fields["csrf_token"]
        return client.post("/setup/login", data={"csrf_token": token, "_action": "login",
                                                 "username": username, "password": password})


def sf_session(server: LiveServer) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    http.mount(f"https://{server.hostport}", ToHttp(server.hostport))
    return http


def token(server: LiveServer, key: str, secret: str) -> httpx.Response:
    return httpx.post(f"{server.url}/services/oauth2/token", trust_env=False, data={
        "grant_type": "client_credentials", "client_id": key, "client_secret": secret})


def test_connected_app_workflow(chromium: Any, admin: Any, browser_server: LiveServer,
                                tmp_path: Path) -> None:
    server, page = browser_server, admin
    shoot(chromium, page, "home")
    page.click("nav >> text=App Manager")
    shoot(chromium, page, "app-manager")
    page.click("#new-app")
    page.fill("#name", "Reporting Service")
    page.fill("#callback_urls", "http://reports.example.com/cb")
    page.fill("#certificate", "-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----")
    page.click("#save")
    assert "must use https" in page.locator("#callback_urls-error").inner_text()
    assert page.locator("#name").input_value() == "Reporting Service"
    page.fill("#callback_urls", "https://reports.example.com/cb")
    page.click("#save")
    assert "is not a PEM X.509 certificate" in page.locator("#certificate-error").inner_text()
    shoot(chromium, page, "app-new-errors")
    keys = make_key_pair("reporting-service")
    pem = tmp_path / "reporting.pem"
    pem.write_text(keys.certificate_pem)
    page.fill("#certificate", "")
    page.set_input_files("#certificate_file", str(pem))
    page.check("#enable_client_credentials")
    page.select_option("#run_as", label=server.username)
    page.select_option("#permitted_users", "admin_approved")  # JWT bearer needs pre-approval
    page.get_by_label("System Administrator", exact=True).check()
    page.click("#save")
    assert page.locator("[role=status]").inner_text() == "Connected app created."
    assert "CN=reporting-service" in page.locator("#certificate").inner_text()
    shoot(chromium, page, "app")

    page.fill("#verify-password", "not-my-password")
    page.click("#view-consumer")
    assert page.locator("#verify-error").is_visible()
    assert page.locator("#consumer-secret").count() == 0
    page.fill("#verify-password", server.password)
    page.click("#view-consumer")
    key = page.locator("#consumer-key").input_value()
    secret = page.locator("#consumer-secret").input_value()
    assert key.startswith("3MVG9") and len(secret) == 64
    copy = "button[data-copy=consumer-secret]"
    page.click(copy)
    # The clipboard write is a promise: wait for the button to say how it went.
    page.wait_for_function(f"document.querySelector({copy!r}).textContent !== 'Copy'")
    assert page.locator(copy).inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert secret not in page.url

    # A real client uses the app at once: JWT bearer (simple-salesforce) and client credentials.
    sf = Salesforce(username=server.username, consumer_key=key,
                    privatekey=keys.private_pem.decode(), instance_url=f"{server.hostport}/login",
                    session=sf_session(server))
    found = sf.query(f"SELECT Username FROM User WHERE Username = '{server.username}'")
    assert [r["Username"] for r in found["records"]] == [server.username]
    assert token(server, key, secret).status_code == 200

    page.click("#rotate-secret")
    page.click("#confirm")
    assert "Consumer secret rotated" in page.locator("[role=status]").inner_text()
    assert token(server, key, secret).status_code == 400

    page.reload()
    assert server.username in page.locator("#usage").inner_text()
    page.locator("#usage button").first.click()
    assert page.locator("[role=status]").inner_text() == "OAuth tokens revoked."
    time.sleep(1.1)  # a worker may hold the resolved session for its cache's 1 s bound
    # (the session itself, not sf.query: simple-salesforce signs a new JWT on a 401)
    dead = httpx.get(f"{server.url}/services/data/v62.0/sobjects", trust_env=False,
                     headers={"Authorization": f"Bearer {sf.session_id}"})
    assert dead.status_code == 401
    page.click("#edit-app")
    shoot(chromium, page, "app-edit")
    page.click("nav >> text=Setup Audit Trail")
    trail = page.locator("#audit").inner_text()
    for action in ("createdConnectedApp", "insertCertificate", "rotatedConsumerSecret"):
        assert action in trail, action
    assert re.search(r"Revoked OAuth tokens of \S+ for connected app Reporting Service", trail)


def test_user_workflow(chromium: Any, admin: Any, browser_server: LiveServer) -> None:
    server, page = browser_server, admin
    page.click("nav >> text=Users")
    page.click("#new-user")
    page.fill("#first_name", "Grace")
    page.fill("#last_name", "Hopper")
    page.fill("#email", "grace@browser.test")
    page.fill("#username", "grace@browser.test")
    page.select_option("#profile", "Standard User")
    page.fill("#password", "First-Pass-1")
    page.click("#save")
    assert page.locator("[role=status]").inner_text() == "User created."
    user_url = page.url.split("?")[0]

    page.click("#reset-password")
    password = shown_value(page)
    page.goto(user_url)
    page.click("#reset-token")
    security_token = shown_value(page)
    assert setup_login(server, "grace@browser.test", "First-Pass-1").status_code == 401
    # The new password logs in (to Setup: a Standard User gets 403 there) ...
    denied = setup_login(server, "grace@browser.test", password)
    assert denied.status_code == 403 and "Insufficient privileges" in denied.text
    # ... and password + the new token log in to the API (SOAP login, simple-salesforce).
    sf = Salesforce(username="grace@browser.test", password=password,
                    security_token=security_token, domain=f"{server.hostport}/login",
                    session=sf_session(server))
    assert sf.session_id

    for _ in range(10):
        setup_login(server, "grace@browser.test", "wrong-password")
    assert setup_login(server, "grace@browser.test", password).status_code == 401
    page.goto(user_url)
    assert "locked after" in page.locator("dl.facts").inner_text()
    shoot(chromium, page, "user")
    page.click("#unlock")
    assert page.locator("[role=status]").inner_text() == "User unlocked."
    assert setup_login(server, "grace@browser.test", password).status_code == 403

    page.click("nav >> text=Users")
    shoot(chromium, page, "users")
    page.click("nav >> text=Profiles")
    shoot(chromium, page, "profiles")
    page.click("text=Standard User")
    assert page.locator("#Account-read").is_checked()
    shoot(chromium, page, "profile")
    # Take Accounts away from Standard User: Grace's API session loses them at once.
    assert sf.query("SELECT Id FROM Account")["done"] is True
    for permission in ("read", "create", "edit", "delete"):
        page.uncheck(f"#Account-{permission}")
    page.click("#save")
    assert "/setup/profiles/" in page.url
    time.sleep(1.1)  # the per-process session cache's bound
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT Id FROM Account")
    assert refused.value.content[0]["errorCode"] == "INVALID_TYPE"
    page.click("nav >> text=API Usage")
    shoot(chromium, page, "api-usage")
    page.click("nav >> text=Org Settings")
    shoot(chromium, page, "org-settings")
    page.click("nav >> text=Login History")
    shoot(chromium, page, "login-history")
    page.click("nav >> text=Setup Audit Trail")
    trail = page.locator("#audit").inner_text()
    for action in ("createduser", "resetpassword", "resetsecuritytoken", "unlockeduser",
                   "profileChanged"):
        assert action in trail, action
    shoot(chromium, page, "audit-trail")


def api_login(server: LiveServer, password: str) -> Salesforce:
    """SOAP login() as simple-salesforce does it: the password, no security token appended."""
    return Salesforce(username=server.username, password=password, security_token="",
                      domain=f"{server.hostport}/login", session=sf_session(server))


def save_org(page: Any, attempts: str, minutes: str, timeout: str, api_requests: str,
             ranges: str) -> None:
    """Fill the Org settings form's policies and save it."""
    page.select_option("#lockout_attempts", attempts)
    page.select_option("#lockout_minutes", minutes)
    page.select_option("#session_timeout_minutes", timeout)
    page.fill("#daily_api_requests", api_requests)
    page.fill("#trusted_ip_ranges", ranges)
    page.click("#save")


def test_org_settings_and_new_profile_workflow(chromium: Any, admin: Any,
                                               browser_server: LiveServer) -> None:
    server, page = browser_server, admin
    with pytest.raises(SalesforceAuthenticationFailed):  # no trusted range: the token is needed
        api_login(server, server.password)
    page.click("nav >> text=Org Settings")
    assert page.locator("#lockout_attempts").input_value() == "10"
    save_org(page, "3", "0", "60", "5000", "127.0.0.9-127.0.0.1")
    error = page.locator("#trusted_ip_ranges-error").inner_text()
    assert "the start address comes after the end address" in error
    assert page.locator("#trusted_ip_ranges").input_value() == "127.0.0.9-127.0.0.1"
    assert page.locator("#lockout_attempts").input_value() == "3"  # the rest kept too
    assert page.locator("#trusted_ip_ranges").get_attribute("aria-invalid") == "true"
    shoot(chromium, page, "org-settings-errors")
    page.fill("#trusted_ip_ranges", "127.0.0.1-127.0.0.255\n::1")
    page.click("#save")
    assert page.locator("[role=status]").inner_text() == "Saved."
    assert page.locator("#session_timeout_minutes").input_value() == "60"
    assert "(server setting)" not in page.locator("label[for=lockout_attempts]").inner_text()
    # From 127.0.0.1, inside the trusted range: the password alone logs in to the API.
    sf = api_login(server, server.password)
    assert sf.query("SELECT Id FROM User")["totalSize"] >= 1
    assert sf.limits()["DailyApiRequests"]["Max"] == 5000
    page.fill("#trusted_ip_ranges", "10.0.0.0-10.0.0.255")
    page.click("#save")
    with pytest.raises(SalesforceAuthenticationFailed):
        api_login(server, server.password)

    page.click("nav >> text=Profiles")
    page.click("#new-profile")
    page.select_option("#clone_of", label="Read Only")
    page.fill("#name", "Read Only")
    page.click("#save")
    assert "already exists" in page.locator("#name-error").inner_text()
    page.fill("#name", "Auditors")
    shoot(chromium, page, "profile-new")
    page.click("#save")
    assert page.locator("[role=status]").inner_text() == "Created."
    assert page.locator("h1").inner_text() == "Profile: Auditors"
    assert page.locator("#Account-read").is_checked()  # Read Only's rights, cloned
    assert not page.locator("#Account-edit").is_checked()
    page.click("nav >> text=Profiles")
    page.click("#new-permission-set")
    page.fill("#label", "Report Exporters")
    page.fill("#api_name", "Report__Exporters")
    page.click("#save")
    assert "single underscores" in page.locator("#api_name-error").inner_text()
    assert page.locator("#label").input_value() == "Report Exporters"
    shoot(chromium, page, "permission-set-new")
    page.fill("#api_name", "")
    page.click("#save")
    assert page.locator("[role=status]").inner_text() == "Created."
    assert "Report_Exporters" in page.locator("main").inner_text()

    # The server is shared with later tests: back to Salesforce's defaults.
    page.click("nav >> text=Org Settings")
    save_org(page, "10", "15", "120", "15000", "")
    assert page.locator("[role=status]").inner_text() == "Saved."

    page.click("nav >> text=Setup Audit Trail")
    trail = page.locator("#audit").inner_text()
    for action in ("changedLockoutAttempts", "changedLockoutPeriod", "changedSessionTimeout",
                   "changedApiRequestAllocation", "addedTrustedIpRange",
                   "deletedTrustedIpRange", "profileCreate", "PermSetCreate"):
        assert action in trail, action
