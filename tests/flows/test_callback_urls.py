"""Callback URLs a browser would run or open (issue #20): refused at registration (directory,
seed) and, if one was stored before the rule, never redirected to by ``/authorize``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.flows.browser_world import KEY, World, world_fixture  # noqa: F401

from localforce.directory.service import DirectoryError, check_callback_url
from localforce.domain import ids

REFUSED = ["javascript:alert(document.cookie)", "JavaScript://x/%0aalert(1)",
           "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd", "myapp:/cb",
           "http://evil.example.com/cb", "https:///no-host"]
ACCEPTED = ["https://app.example.com/cb", "http://localhost:1717/OauthRedirect",
            "http://127.0.0.1:8080/cb", "com.example.app:/oauth2redirect"]


@pytest.mark.parametrize("url", REFUSED)
def test_a_dangerous_callback_is_refused_at_registration(world: World, url: str) -> None:
    with pytest.raises(DirectoryError):
        check_callback_url(url)
    with pytest.raises(DirectoryError):
        world.services.directory.create_app(replace(
            world.app, id=ids.new_id("0H4"), consumer_key="", callback_urls=(url,)), None)


@pytest.mark.parametrize("url", ACCEPTED)
def test_https_loopback_and_reverse_domain_schemes_are_accepted(url: str) -> None:
    assert check_callback_url(url) == url


def test_authorize_never_redirects_to_a_stored_javascript_callback(world: World) -> None:
    bad = "javascript:alert(1)"
    world.services.directory.store.save_app(replace(world.app, callback_urls=(bad,)))
    response = world.client.get("/services/oauth2/authorize", params={
        "response_type": "code", "client_id": KEY, "redirect_uri": bad},
        follow_redirects=False)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri_mismatch" in response.text
