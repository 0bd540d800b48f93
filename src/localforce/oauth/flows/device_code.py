"""Device access token request: RFC 8628 §3.4-3.5, with Salesforce's alias.

    POST /services/oauth2/token
    grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=...&client_id=...
    grant_type=device&code=...&client_id=...              (Salesforce, sfdx-core)

Until the user approves at ``/setup/connect`` the answer is 400 ``authorization_pending``;
polling faster than ``interval`` gets ``slow_down`` and, as RFC 8628 §3.5 says, "the interval
MUST be increased by 5 seconds for this and all subsequent requests"; a denied request is
``access_denied`` and an old one ``expired_token``. An approved device code is redeemed once.
"""

from __future__ import annotations

from typing import ClassVar

from localforce.domain import scopes as scope_words
from localforce.oauth.artifacts import DeviceAuthorization, DeviceStatus
from localforce.oauth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InactiveUser,
    InvalidGrant,
    InvalidRequest,
    SlowDown,
)
from localforce.oauth.flows.needs import (
    AppLookup,
    Clients,
    Clock,
    Devices,
    TokenWriter,
    UserLookup,
)
from localforce.oauth.issuing import IssuePolicy
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.security.tokens import digest

GRANT_TYPES = ("urn:ietf:params:oauth:grant-type:device_code", "device")
FLOW = "device"
SLOW_DOWN_STEP = 5


class DeviceCodeFlow:
    GRANT_TYPES: ClassVar[tuple[str, ...]] = GRANT_TYPES
    RESPONSE_TYPES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, clients: Clients, devices: Devices, apps: AppLookup,
                 users: UserLookup, issuer: TokenWriter, clock: Clock) -> None:
        self._clients = clients
        self._devices = devices
        self._apps = apps
        self._users = users
        self._issuer = issuer
        self._clock = clock

    def exchange(self, request: TokenRequest) -> TokenResponse:
        # A confidential app proves itself with its secret here, as at every other grant.
        app = self._clients.find(request.client_id)
        app, secret = self._clients.client(request, require_secret=app.has_secret)
        presented = request.get("device_code") or request.get("code")
        if presented is None:
            raise InvalidRequest("missing required parameter: device_code")
        device = self._devices.get_device(digest(presented))
        issued_to = self._apps.get_app(device.app_id) if device else None
        if device is None or issued_to is None or issued_to.consumer_key != app.consumer_key:
            raise InvalidGrant("invalid device code")
        now = int(self._clock())
        if device.expired(now):
            raise ExpiredToken()
        if device.status == DeviceStatus.DENIED:
            raise AccessDenied()
        if device.status == DeviceStatus.PENDING:
            raise self._pending(device, now)
        if device.user_id is None or not self._devices.consume_device(device.digest):
            raise InvalidGrant("invalid device code")  # already redeemed
        user = self._users.get_user(device.user_id)
        if user is None or not user.active:
            raise InactiveUser()
        return self._issuer.issue(issued_to, user, device.scopes, IssuePolicy(
            FLOW, with_refresh=scope_words.allows_refresh(device.scopes), jkt=request.jkt),
            secret if issued_to.id == app.id else None)

    def _pending(self, device: DeviceAuthorization, now: int) -> Exception:
        too_fast = (device.last_polled_at is not None
                    and now - device.last_polled_at < device.interval)
        interval = device.interval + SLOW_DOWN_STEP if too_fast else device.interval
        self._devices.record_poll(device.digest, now, interval)
        return SlowDown() if too_fast else AuthorizationPending()
