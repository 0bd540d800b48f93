"""DeviceAuthorizationEndpoint (the device request at /token and at the RFC 8628 endpoint)
built from fakes of its Protocols (Clients, NewDevices, a clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import APP, NOW, Clients, clock, request

from localforce.oauth.artifacts import DeviceAuthorization, DeviceStatus
from localforce.oauth.endpoints.device_authorization import (
    INTERVAL,
    LIFETIME,
    DeviceAuthorizationEndpoint,
)
from localforce.oauth.errors import InvalidScope, UnauthorizedClient
from localforce.security.tokens import digest

DEVICE_APP = replace(APP, enable_device_flow=True)


class Saved:
    def __init__(self, taken: int = 0) -> None:
        self.taken = taken  # user codes already in use, refused in turn
        self.devices: list[DeviceAuthorization] = []

    def save_device(self, device: DeviceAuthorization) -> bool:
        if self.taken:
            self.taken -= 1
            return False
        self.devices.append(device)
        return True


def endpoint(app=DEVICE_APP, saved=None):  # type: ignore[no-untyped-def]
    return DeviceAuthorizationEndpoint(Clients(app), saved or Saved(), "https://lf.test",
                                       clock)


def test_salesforce_dialect_four_fields_and_a_pending_request_stored() -> None:
    saved = Saved(taken=2)
    answer = endpoint(saved=saved).exchange(
        request(secret=None, response_type="device_code", scope="api refresh_token"))
    body = answer.body()
    assert list(body) == ["device_code", "user_code", "verification_uri", "interval"]
    assert body["verification_uri"] == "https://lf.test/setup/connect"
    assert body["interval"] == INTERVAL
    (device,) = saved.devices
    assert device == DeviceAuthorization(digest(body["device_code"]), body["user_code"], APP.id,
                                         ("api", "refresh_token"), DeviceStatus.PENDING, None,
                                         INTERVAL, NOW, NOW + LIFETIME)


def test_rfc8628_dialect_adds_expiry_and_the_complete_uri() -> None:
    body = endpoint().authorize(request(secret=None), rfc8628=True).body()
    assert body["expires_in"] == LIFETIME
    assert body["verification_uri_complete"] == (
        f"https://lf.test/setup/connect?user_code={body['user_code']}")


def test_only_device_flow_apps_and_their_scopes() -> None:
    with pytest.raises(UnauthorizedClient):
        endpoint(APP).exchange(request(secret=None, response_type="device_code"))
    with pytest.raises(InvalidScope):
        endpoint().exchange(request(secret=None, response_type="device_code", scope="full"))
