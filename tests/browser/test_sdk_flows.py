"""The SDK's interactive providers with a real browser: the web server flow (PKCE S256 on a
loopback redirect) and the device flow, against a test org (``localforce.testing``) whose clock
then expires the session and the refresh token policy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localforce.client import AuthenticationError
from localforce.client.device import DeviceFlow
from localforce.client.loopback import WebServerFlow
from localforce.testing import Org, start_org
from localforce.testing.org import free_port

pytestmark = pytest.mark.browser

SEED = """
[org]
name = "SDK Browser"

[[users]]
username = "sdk@browser.test"
password = "Sdk-Browser-1"
profile = "System Administrator"
first_name = "Sid"
last_name = "Browser"

[[apps]]
name = "SDK CLI"
consumer_key = "3MVG9sdk.browser"
consumer_secret = "sdk-browser-secret"
callback_urls = ["http://127.0.0.1:{port}/OauthRedirect"]
scopes = ["api", "refresh_token"]
enable_device_flow = true
refresh_token_policy = "expire_after:1d"
"""


@pytest.fixture(scope="module")
def org_and_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Org, int]]:
    folder = tmp_path_factory.mktemp("sdk-browser")
    port = free_port()
    (folder / "seed.toml").write_text(SEED.format(port=port))
    org = start_org(folder / "org", folder / "seed.toml")
    yield org, port
    org.stop()


@pytest.fixture
def tab(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(ignore_https_errors=True)  # the org's own test CA
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def log_in(tab: Any, org: Org) -> None:
    tab.fill("#username", org.user.username)
    tab.fill("#password", org.user.password)
    tab.click("#login")
    tab.click("#allow")


def test_web_server_flow_logs_in_through_the_login_page(tab: Any,
                                                        org_and_port: tuple[Org, int]) -> None:
    org, port = org_and_port
    opened: list[str] = []

    def browser(url: str) -> None:
        opened.append(url)
        tab.goto(url)
        log_in(tab, org)
        tab.wait_for_selector("text=You are logged in")

    flow = WebServerFlow(org.login_url, org.app.consumer_key, org.app.consumer_secret,
                         port=port, open_browser=browser, verify=org.ssl_context, timeout=30)
    with flow.session() as sf:
        assert "code_challenge_method=S256" in opened[0]
        assert sf.token is not None and sf.token.refresh_token
        assert sf.identity()["username"] == org.user.username
        first = sf.token.access_token
        org.clock.advance(hours=3)  # the session times out; the refresh token renews it
        sf.limits()
        assert sf.token.access_token != first and sf.token_fetches == 1
        org.clock.advance(days=1)  # past the app's refresh token policy as well
        with pytest.raises(AuthenticationError) as expired:
            sf.limits()
        assert (expired.value.error_code, expired.value.message) == (
            "invalid_grant", "expired access/refresh token")


def test_device_flow_completes_when_a_browser_approves(tab: Any,
                                                       org_and_port: tuple[Org, int]) -> None:
    org, _ = org_and_port
    sleeps: list[float] = []

    def approve(verification_uri: str, user_code: str) -> None:
        tab.goto(verification_uri)
        tab.fill("#user_code", user_code)
        tab.click("#connect")
        log_in(tab, org)
        tab.wait_for_selector("text=Device connected")

    with httpx.Client(verify=org.ssl_context, trust_env=False) as http:
        flow = DeviceFlow(org.login_url, org.app.consumer_key, org.app.consumer_secret,
                          announce=approve, sleep=sleeps.append, http=http)
        with flow.session(verify=org.ssl_context) as sf:
            assert sf.identity()["username"] == org.user.username
    assert len(sleeps) == 1  # approved before the first poll, which waited one interval
