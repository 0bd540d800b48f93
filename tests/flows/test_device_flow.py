"""Device flow, both dialects (salesforce-wire.md §2.4; RFC 8628), and the activation page.

Salesforce's: ``POST /token response_type=device_code`` then polls with ``grant_type=device``
and ``code``. RFC 8628's: the device authorization endpoint, then
``grant_type=urn:ietf:params:oauth:grant-type:device_code`` with ``device_code``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.conftest import FixedClock
from tests.flows.browser_forms import forms, submit
from tests.flows.browser_world import (  # noqa: F401
    KEY,
    PASSWORD,
    SECRET,
    World,
    world_fixture,
)

from localforce.domain.models import PermittedUsers

RFC_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PENDING = {"error": "authorization_pending", "error_description": "authorization pending"}


@pytest.fixture
def device_world(world: World) -> World:
    world.save_app(enable_device_flow=True)
    return world


def request_codes(world: World, **extra: str) -> Any:
    """Salesforce's dialect, multipart like sfdx-core."""
    form = {"response_type": "device_code", "client_id": KEY, "scope": "refresh_token api",
            **extra}
    return world.client.post("/services/oauth2/token",
                             files={k: (None, v) for k, v in form.items()})


def poll(world: World, device_code: str, **secret: str) -> Any:
    """Acme Web is a confidential app: it polls with its secret unless told otherwise."""
    return world.token(grant_type="device", client_id=KEY, code=device_code,
                       **(secret or {"client_secret": SECRET}))


def activate(world: World, user_code: str, action: str = "allow") -> Any:
    """The person's side: enter the code, log in, allow or deny."""
    page = world.client.get("/setup/connect")
    login = submit(world.client, page.text, user_code=user_code)
    assert 'name="password"' in login.text and "Acme Web" in login.text
    logged_in = submit(world.client, login.text, username=world.user.username,
                       password=PASSWORD)
    assert logged_in.status_code == 303
    approve = world.client.get(logged_in.headers["location"])
    assert "Allow the device?" in approve.text
    assert user_code.upper().replace("-", "") in approve.text
    return submit(world.client, approve.text, button=("_action", action))


def test_salesforce_device_code_response(device_world: World) -> None:
    response = request_codes(device_world)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["device_code", "user_code", "verification_uri", "interval"]
    assert re.fullmatch(r"[A-Z0-9]{8}", body["user_code"])
    assert body["verification_uri"] == "http://testserver/setup/connect"
    assert body["interval"] == 5
    assert response.headers["cache-control"].startswith("no-cache")


def test_salesforce_dialect_end_to_end(device_world: World, clock: FixedClock) -> None:
    codes = request_codes(device_world).json()
    pending = poll(device_world, codes["device_code"])
    assert (pending.status_code, pending.json()) == (400, PENDING)

    done = activate(device_world, codes["user_code"])
    assert done.status_code == 200 and "Device connected" in done.text

    clock.advance(5)
    tokens = poll(device_world, codes["device_code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["scope"] == "refresh_token api" and "refresh_token" in body
    assert body["id"] == device_world.identity_url()
    assert device_world.client.get("/services/data/v60.0/sobjects", headers={
        "Authorization": f"Bearer {body['access_token']}"}).status_code == 200

    clock.advance(5)
    again = poll(device_world, codes["device_code"])
    assert (again.status_code, again.json()) == (400, {
        "error": "invalid_grant", "error_description": "invalid device code"})


def test_rfc_8628_dialect_end_to_end(device_world: World, clock: FixedClock) -> None:
    response = device_world.client.post("/services/oauth2/device/code",
                                        data={"client_id": KEY, "scope": "api"})
    assert response.status_code == 200
    codes = response.json()
    assert list(codes) == ["device_code", "user_code", "verification_uri",
                           "verification_uri_complete", "expires_in", "interval"]
    assert codes["verification_uri_complete"] == (
        f"http://testserver/setup/connect?user_code={codes['user_code']}")
    assert codes["expires_in"] == 600
    activate(device_world, codes["user_code"])
    tokens = device_world.token(grant_type=RFC_GRANT, client_id=KEY, client_secret=SECRET,
                                device_code=codes["device_code"])
    assert tokens.status_code == 200 and tokens.json()["scope"] == "api"
    assert "refresh_token" not in tokens.json()


def test_polling_too_fast_slows_down_and_widens_the_interval(
        device_world: World, clock: FixedClock) -> None:
    code = request_codes(device_world).json()["device_code"]
    assert poll(device_world, code).json() == PENDING
    clock.advance(4)
    assert poll(device_world, code).json() == {"error": "slow_down",
                                               "error_description": "polling too fast: slow down"}
    clock.advance(9)  # the interval is now 10 s
    assert poll(device_world, code).json()["error"] == "slow_down"
    clock.advance(15)  # now 15 s
    assert poll(device_world, code).json() == PENDING


def test_denied_is_access_denied(device_world: World) -> None:
    codes = request_codes(device_world).json()
    done = activate(device_world, codes["user_code"], action="deny")
    assert "Access denied" in done.text
    response = poll(device_world, codes["device_code"])
    assert (response.status_code, response.json()) == (400, {
        "error": "access_denied", "error_description": "end-user denied authorization"})


def test_an_old_device_code_is_expired_token(device_world: World, clock: FixedClock) -> None:
    codes = request_codes(device_world).json()
    clock.advance(600)
    response = poll(device_world, codes["device_code"])
    assert (response.status_code, response.json()) == (400, {
        "error": "expired_token", "error_description": "the device code has expired"})
    page = device_world.client.get("/setup/connect")
    refused = submit(device_world.client, page.text, user_code=codes["user_code"])
    assert "That code is not valid or has expired" in refused.text


def test_only_for_apps_that_enable_it(world: World) -> None:
    response = request_codes(world)
    assert (response.status_code, response.json()) == (400, {
        "error": "unauthorized_client",
        "error_description": "the client is not authorized to use this flow"})


def test_an_unknown_device_code_is_invalid_grant(device_world: World) -> None:
    response = poll(device_world, "nope")
    assert response.json() == {"error": "invalid_grant",
                               "error_description": "invalid device code"}


def test_another_apps_device_code_is_invalid_grant(device_world: World) -> None:
    codes = request_codes(device_world).json()
    response = device_world.token(grant_type="device", client_id="PlatformCLI",
                                  code=codes["device_code"])
    assert response.json()["error"] == "invalid_grant"


def test_the_user_code_is_forgiving_about_case_and_dashes(device_world: World) -> None:
    codes = request_codes(device_world).json()
    typed = codes["user_code"][:4].lower() + "-" + codes["user_code"][4:].lower()
    done = activate(device_world, typed)
    assert "Device connected" in done.text


def test_activation_without_a_csrf_token_is_refused(device_world: World) -> None:
    codes = request_codes(device_world).json()
    page = device_world.client.get("/setup/connect")
    (form,) = forms(page.text)
    data = {**form.fields, "user_code": codes["user_code"]}
    del data["csrf_token"]
    assert device_world.client.post("/setup/connect", data=data).status_code == 403


def test_admin_approved_app_refuses_an_unapproved_user(device_world: World) -> None:
    device_world.save_app(permitted_users=PermittedUsers.ADMIN_APPROVED)
    codes = request_codes(device_world).json()
    page = device_world.client.get("/setup/connect")
    login = submit(device_world.client, page.text, user_code=codes["user_code"])
    refused = submit(device_world.client, login.text, username=device_world.user.username,
                     password=PASSWORD)
    assert refused.status_code == 403
    assert "user is not admin approved to access this app" in refused.text


def test_the_activation_login_is_recorded(device_world: World) -> None:
    activate(device_world, request_codes(device_world).json()["user_code"])
    (row,) = device_world.history()
    assert (row["status"], row["application"], row["login_url"], row["source_ip"]) == (
        "Success", "Acme Web", "http://testserver/setup/connect", "127.0.0.1")


def test_a_confidential_app_needs_its_secret_to_redeem_a_device_code(
        device_world: World) -> None:
    codes = request_codes(device_world).json()
    activate(device_world, codes["user_code"])
    invalid = {"error": "invalid_client", "error_description": "invalid client credentials"}
    for secret in ({"client_secret": ""}, {"client_secret": "wrong"}):
        refused = poll(device_world, codes["device_code"], **secret)
        assert (refused.status_code, refused.json()) == (400, invalid), secret
    missing = device_world.token(grant_type="device", client_id=KEY, code=codes["device_code"])
    assert (missing.status_code, missing.json()) == (400, invalid)
    assert poll(device_world, codes["device_code"]).status_code == 200  # not consumed


def test_a_public_app_redeems_without_a_secret(device_world: World) -> None:
    device_world.services.directory.store.set_app_secret(device_world.app.id, None)
    device_world.save_app(has_secret=False)
    codes = request_codes(device_world).json()
    activate(device_world, codes["user_code"])
    redeemed = device_world.token(grant_type="device", client_id=KEY, code=codes["device_code"])
    assert redeemed.status_code == 200, redeemed.text
