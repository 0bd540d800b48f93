"""Device authorization request: RFC 8628 §3.1-3.2, and Salesforce's dialect of it.

Salesforce (salesforce-wire.md §2.4; sfdx-core ``deviceOauthService.ts``) takes it at the token
endpoint, without a ``grant_type``::

    POST /services/oauth2/token
    response_type=device_code&client_id=3MVG9...&scope=refresh_token%20api

    {"device_code":"...","user_code":"X1D9SEET","verification_uri":"https://…/setup/connect",
     "interval":5}

RFC 8628 clients post ``client_id`` and ``scope`` to a device authorization endpoint
(``/services/oauth2/device/code`` here) and also get ``expires_in`` (REQUIRED by §3.2) and
``verification_uri_complete``. Only apps with "Enable for Device Flow" may use either.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from localforce.oauth.artifacts import DeviceAuthorization, DeviceStatus
from localforce.oauth.errors import UnauthorizedClient
from localforce.oauth.flows.needs import Clients
from localforce.oauth.grants import requested_scopes
from localforce.oauth.messages import TokenRequest
from localforce.security.tokens import digest, random_token

PATH = "/services/oauth2/device/code"
VERIFICATION_PATH = "/setup/connect"
#: RFC 8628 §6.1: a short code from an alphabet without look-alikes (no 0/O, 1/I); 32 symbols
#: over 8 characters is 40 bits, far beyond what the expiry and rate limits let anyone guess.
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
USER_CODE_LENGTH = 8
INTERVAL = 5
LIFETIME = 10 * 60


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalise_user_code(text: str) -> str:
    """What a person types: any case, with spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


@dataclass(frozen=True)
class DeviceCodeResponse:
    device_code: str
    user_code: str
    verification_uri: str
    interval: int
    #: RFC 8628 dialect only (Salesforce sends exactly the four fields above).
    expires_in: int | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"device_code": self.device_code, "user_code": self.user_code,
                               "verification_uri": self.verification_uri}
        if self.expires_in is not None:
            out["verification_uri_complete"] = (
                f"{self.verification_uri}?user_code={self.user_code}")
            out["expires_in"] = self.expires_in
        out["interval"] = self.interval
        return out


class NewDevices(Protocol):
    """Where a device request is kept (``artifacts.DeviceStore``'s first verb)."""

    def save_device(self, device: DeviceAuthorization) -> bool: ...


class DeviceAuthorizationEndpoint:
    """Registered with the token endpoint for ``response_type=device_code``; also called by
    the RFC 8628 route with ``rfc8628=True``."""

    GRANT_TYPES: ClassVar[tuple[str, ...]] = ()
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ("device_code",)

    def __init__(self, clients: Clients, devices: NewDevices, base_url: str,
                 clock: Callable[[], float]) -> None:
        self._clients = clients
        self._devices = devices
        self._verification_uri = base_url + VERIFICATION_PATH
        self._clock = clock

    def exchange(self, request: TokenRequest) -> DeviceCodeResponse:
        return self.authorize(request, rfc8628=False)

    def authorize(self, request: TokenRequest, *, rfc8628: bool) -> DeviceCodeResponse:
        app, _ = self._clients.client(request, require_secret=False)
        if not app.enable_device_flow:
            raise UnauthorizedClient()
        scopes = requested_scopes(request, app)
        device_code = random_token(48)
        now = int(self._clock())
        while True:  # a user-code collision is rare; draw again
            user_code = new_user_code()
            if self._devices.save_device(DeviceAuthorization(
                    digest(device_code), user_code, app.id, scopes, DeviceStatus.PENDING, None,
                    INTERVAL, now, now + LIFETIME)):
                break
        return DeviceCodeResponse(device_code, user_code, self._verification_uri, INTERVAL,
                                  LIFETIME if rfc8628 else None)
