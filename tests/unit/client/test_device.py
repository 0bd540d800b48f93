"""The device provider polls at the org's interval, 5 s slower after each ``slow_down``, and
stops on any other error."""

from __future__ import annotations

import httpx
import pytest

from localforce.client import AuthenticationError
from localforce.client.device import DeviceFlow

CODES = {"device_code": "dc", "user_code": "ABCD-1234", "interval": 3,
         "verification_uri": "https://org.example/setup/connect"}


def flow(*polls: tuple[int, dict[str, str]]) -> tuple[DeviceFlow, list[float], list[str]]:
    answers = list(polls)
    shown: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form.get("response_type") == "device_code":
            return httpx.Response(200, json=CODES)
        assert form == {"grant_type": "device", "client_id": "key", "code": "dc"}
        status, body = answers.pop(0)
        return httpx.Response(status, json=body)

    sleeps: list[float] = []
    device = DeviceFlow("https://login.example", "key", announce=lambda u, c: shown.append(c),
                        sleep=sleeps.append,
                        http=httpx.Client(transport=httpx.MockTransport(handler)))
    return device, sleeps, shown


PENDING = (400, {"error": "authorization_pending", "error_description": "pending"})
SLOW = (400, {"error": "slow_down", "error_description": "slow down"})


def test_polls_at_the_interval_and_slows_down_when_told() -> None:
    device, sleeps, shown = flow(PENDING, SLOW, PENDING, (200, {
        "access_token": "00D!x", "instance_url": "https://org.example"}))
    assert device.run().access_token == "00D!x"
    assert shown == ["ABCD-1234"]
    assert sleeps == [3, 3, 8, 8]  # each poll after the wait; +5 s from the slow_down on


def test_a_denied_code_stops_the_polling() -> None:
    device, sleeps, _ = flow(PENDING, (400, {"error": "access_denied",
                                             "error_description": "end-user denied"}))
    with pytest.raises(AuthenticationError) as denied:
        device.run()
    assert denied.value.error_code == "access_denied" and sleeps == [3, 3]
