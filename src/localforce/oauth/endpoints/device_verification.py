"""The user side of the device flow (RFC 8628 §3.3): look up a user code, approve or deny.

The activation page at ``/setup/connect`` asks for the code, makes the user log in, shows the
app and its scopes, and records the decision. The device's next poll then gets its tokens or
``access_denied``. Admin-approved apps refuse users they do not pre-authorize.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localforce.directory.ports import AppLookup
from localforce.domain.models import ConnectedApp, PermittedUsers, User
from localforce.oauth.artifacts import DeviceAuthorization, DeviceStatus, DeviceStore
from localforce.oauth.endpoints.device_authorization import normalise_user_code
from localforce.oauth.errors import InvalidAppAccess


class UnknownUserCode(Exception):
    """No pending, unexpired device authorization has this user code."""


@dataclass(frozen=True)
class PendingDevice:
    device: DeviceAuthorization
    app: ConnectedApp

    @property
    def user_code(self) -> str:
        return self.device.user_code


class DeviceVerifier:
    def __init__(self, apps: AppLookup, devices: DeviceStore,
                 clock: Callable[[], float]) -> None:
        self._apps = apps
        self._devices = devices
        self._clock = clock

    def find(self, typed: str) -> PendingDevice:
        device = self._devices.find_by_user_code(normalise_user_code(typed))
        if (device is None or device.status != DeviceStatus.PENDING
                or device.expired(int(self._clock()))):
            raise UnknownUserCode()
        app = self._apps.get_app(device.app_id)
        if app is None:
            raise UnknownUserCode()
        return PendingDevice(device, app)

    def decide(self, typed: str, user: User, approve: bool) -> PendingDevice:
        """Record the user's decision; raises ``InvalidAppAccess`` for an admin-approved app
        that does not pre-authorize the user (the device then polls ``access_denied``)."""
        pending = self.find(typed)
        refused = (pending.app.permitted_users == PermittedUsers.ADMIN_APPROVED
                   and not pending.app.pre_authorizes(user))
        if not self._devices.decide(pending.device.digest, user.id, approve and not refused):
            raise UnknownUserCode()
        if refused:
            raise InvalidAppAccess()
        return pending
