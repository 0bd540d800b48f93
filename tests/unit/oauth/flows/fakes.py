"""Fakes of the token-endpoint flows' own Protocols (oauth/flows/needs.py): each records what
the flow asked of it, so a flow's rules are tested without a store, a key or a server."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from localforce.domain.models import ConnectedApp, Org, User
from localforce.oauth.artifacts import AuthorizationCode, DeviceAuthorization, DeviceStatus
from localforce.oauth.credentials import LoginContext
from localforce.oauth.errors import InvalidClient, InvalidClientId, OAuthError
from localforce.oauth.issuing import IssuePolicy
from localforce.oauth.messages import TokenRequest, TokenResponse
from localforce.oauth.ports import TokenRecord

NOW = 1_790_000_000
ORG = Org("00D000000000001AAA", "Acme")
USER = User("005000000000001AAA", ORG.id, "ann@acme.test", "ann@acme.test", "Ann", "Lee",
            "00e000000000001AAA")
APP = ConnectedApp("0H4000000000001AAA", ORG.id, "Tool", "KEY1",
                   scopes=("api", "refresh_token", "openid"))
SECRET = "s3cret"


def request(secret: str | None = SECRET, client_id: str | None = APP.consumer_key,
            **params: str) -> TokenRequest:
    return TokenRequest(params, client_id=client_id, client_secret=secret,
                        source_ip="198.51.100.7")


class Clients:
    def __init__(self, *apps: ConnectedApp, secret: str = SECRET) -> None:
        self.apps = list(apps or (APP,))
        self.secret = secret

    def find(self, client_id: str | None, org_id: str | None = None) -> ConnectedApp:
        for app in self.apps:
            if app.consumer_key == client_id and org_id in (None, app.org_id):
                return app
        raise InvalidClientId()

    def client(self, request: TokenRequest, *, require_secret: bool,
               org_id: str | None = None) -> tuple[ConnectedApp, str | None]:
        app = self.find(request.client_id, org_id)
        if request.client_secret is None and not require_secret:
            return app, None
        if request.client_secret != self.secret:
            raise InvalidClient()
        return app, request.client_secret


@dataclass
class Directory:
    """UserLookup, OrgLookup and AppLookup."""

    users: list[User] = field(default_factory=lambda: [USER])
    orgs: list[Org] = field(default_factory=lambda: [ORG])
    apps: list[ConnectedApp] = field(default_factory=lambda: [APP])
    finds: list[tuple[str, bool]] = field(default_factory=list)

    def get_user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def find_user(self, username: str, *, fresh: bool = True) -> User | None:
        self.finds.append((username, fresh))
        return next((u for u in self.users if u.username == username.lower()), None)

    def get_org(self, org_id: str) -> Org | None:
        return next((o for o in self.orgs if o.id == org_id), None)

    def get_app(self, app_id: str) -> ConnectedApp | None:
        return next((a for a in self.apps if a.id == app_id), None)


@dataclass
class Logins:
    """The LoginPolicy: ``refuse`` is raised by admit/check/password."""

    refuse: OAuthError | None = None
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def admit(self, user: User, context: LoginContext) -> None:
        self.calls.append(("admit", user.id, context))
        if self.refuse is not None:
            raise self.refuse

    def check(self, user: User, context: LoginContext) -> None:
        self.calls.append(("check", user.id, context))
        if self.refuse is not None:
            raise self.refuse

    def refreshed(self, user: User, context: LoginContext) -> None:
        self.calls.append(("refreshed", user.id, context))

    def password(self, username: str, password: str, context: LoginContext) -> User:
        self.calls.append(("password", username, password, context))
        if self.refuse is not None:
            raise self.refuse
        return USER

    def record(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> None:
        self.calls.append(("record", status, user.id if user else None, username))

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]


@dataclass
class Issuer:
    """The TokenWriter: remembers each issue and answers with a fixed token."""

    issued: list[tuple[str, str, tuple[str, ...], IssuePolicy, str | None]] = field(
        default_factory=list)

    def issue(self, app: ConnectedApp, user: User, scopes: tuple[str, ...],
              policy: IssuePolicy, secret: str | None = None) -> TokenResponse:
        self.issued.append((app.id, user.id, scopes, policy, secret))
        return TokenResponse(access_token="00D!AQ-fake", instance_url="https://x", id="id",
                             issued_at=None, signature=None, scope=" ".join(scopes))


@dataclass
class Tokens:
    """RefreshTokens (and FamilyRevoker)."""

    records: dict[str, TokenRecord] = field(default_factory=dict)
    revoked_families: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    lose_rotation_race: bool = False

    def find(self, digest: str) -> TokenRecord | None:
        return self.records.get(digest)

    def touch(self, digest: str, now: int) -> None:
        self.touched.append(digest)

    def mark_rotated(self, digest: str, now: int) -> bool:
        if self.lose_rotation_race:
            return False
        self.records[digest] = replace(self.records[digest], rotated_at=now)
        return True

    def revoke_family(self, family_id: str, now: int) -> int:
        self.revoked_families.append(family_id)
        return 1


@dataclass
class Codes:
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    lose_race: bool = False

    def get_code(self, digest: str) -> AuthorizationCode | None:
        return self.codes.get(digest)

    def consume_code(self, digest: str, now: int) -> AuthorizationCode | None:
        code = self.codes.get(digest)
        if code is None or code.consumed_at is not None or self.lose_race:
            return None
        self.codes[digest] = replace(code, consumed_at=now)
        return code


@dataclass
class Devices:
    devices: dict[str, DeviceAuthorization] = field(default_factory=dict)
    polls: list[tuple[str, int, int]] = field(default_factory=list)

    def get_device(self, digest: str) -> DeviceAuthorization | None:
        return self.devices.get(digest)

    def record_poll(self, digest: str, now: int, interval: int) -> None:
        self.polls.append((digest, now, interval))

    def consume_device(self, digest: str) -> bool:
        device = self.devices.get(digest)
        if device is None or device.status != DeviceStatus.APPROVED:
            return False
        self.devices[digest] = replace(device, status=DeviceStatus.CONSUMED)
        return True


@dataclass
class Consents:
    approved: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def find_consent(self, user_id: str, app_id: str) -> tuple[str, ...] | None:
        return self.approved.get((user_id, app_id))


@dataclass
class Jtis:
    seen: set[str] = field(default_factory=set)

    def remember(self, key: str, expires_at: int, now: int) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def clock() -> float:
    return NOW + 0.25
