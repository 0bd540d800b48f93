"""DeviceCodeFlow built from fakes of its Protocols (Clients, Devices, AppLookup, UserLookup,
TokenWriter, a clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.oauth.flows.fakes import (
    APP,
    NOW,
    SECRET,
    USER,
    Clients,
    Devices,
    Directory,
    Issuer,
    clock,
    request,
)

from localforce.oauth.artifacts import DeviceAuthorization, DeviceStatus
from localforce.oauth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    SlowDown,
)
from localforce.oauth.flows.device_code import FLOW, DeviceCodeFlow
from localforce.oauth.issuing import IssuePolicy
from localforce.security.tokens import digest

CODE = "device-code"
PENDING = DeviceAuthorization(digest(CODE), "ABCD2345", APP.id, ("api", "refresh_token"),
                              DeviceStatus.PENDING, None, 5, NOW - 30, NOW + 570)
APPROVED = replace(PENDING, status=DeviceStatus.APPROVED, user_id=USER.id)


def flow(device: DeviceAuthorization, devices=None, issuer=None):  # type: ignore[no-untyped-def]
    directory = Directory()
    return DeviceCodeFlow(Clients(), devices or Devices({device.digest: device}), directory,
                          directory, issuer or Issuer(), clock)


def poll(**params: str):  # type: ignore[no-untyped-def]
    return request(grant_type="device", code=CODE, **params)


def test_an_approved_code_is_redeemed_once() -> None:
    devices, issuer = Devices({APPROVED.digest: APPROVED}), Issuer()
    flow(APPROVED, devices, issuer).exchange(poll())
    assert issuer.issued == [(APP.id, USER.id, APPROVED.scopes,
                              IssuePolicy(FLOW, with_refresh=True), SECRET)]
    with pytest.raises(InvalidGrant):
        flow(APPROVED, devices).exchange(poll())


def test_pending_then_slow_down_widens_the_interval() -> None:
    devices = Devices({PENDING.digest: PENDING})
    with pytest.raises(AuthorizationPending):
        flow(PENDING, devices).exchange(poll())
    too_soon = replace(PENDING, last_polled_at=NOW - 2)
    devices.devices[PENDING.digest] = too_soon
    with pytest.raises(SlowDown):
        flow(too_soon, devices).exchange(poll())
    assert devices.polls == [(PENDING.digest, NOW, 5), (PENDING.digest, NOW, 10)]


def test_denied_and_expired() -> None:
    with pytest.raises(AccessDenied):
        flow(replace(PENDING, status=DeviceStatus.DENIED)).exchange(poll())
    with pytest.raises(ExpiredToken):
        flow(replace(APPROVED, expires_at=NOW)).exchange(poll())


def test_another_apps_device_code_is_invalid() -> None:
    with pytest.raises(InvalidGrant):
        flow(replace(APPROVED, app_id="0H4000000000009AAA")).exchange(poll())
