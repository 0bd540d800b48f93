"""The org's security model as plain values: orgs, profiles, permission sets, users, apps.

These are frozen dataclasses with no I/O. Stores return them; flows and the data API read them.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: Object permission names as the seed file and CLI spell them.
OBJECT_PERMISSIONS = ("read", "create", "edit", "delete", "view_all", "modify_all")


class PermittedUsers(enum.StrEnum):
    ALL = "all"  # all users may self-authorize
    ADMIN_APPROVED = "admin_approved"  # admin-approved users are pre-authorized


class IpRelaxation(enum.StrEnum):
    ENFORCE = "enforce"
    ENFORCE_RELAX_REFRESH = "enforce_relax_refresh"
    RELAX = "relax"


@dataclass(frozen=True)
class RefreshTokenPolicy:
    """When a refresh token stops working (salesforce-wire.md §7).

    ``kind`` is one of ``valid_until_revoked``, ``immediately_expire``,
    ``expire_if_unused`` and ``expire_after``; ``seconds`` is the period of the last two.
    """

    kind: str = "valid_until_revoked"
    seconds: int | None = None

    KINDS = ("valid_until_revoked", "immediately_expire", "expire_if_unused", "expire_after")
    _UNITS = {"m": 60, "h": 3600, "d": 86400}

    @classmethod
    def parse(cls, text: str) -> RefreshTokenPolicy:
        """Parse ``valid_until_revoked``, ``immediately_expire``, ``expire_if_unused:30d``…"""
        kind, _, period = text.partition(":")
        if kind not in cls.KINDS:
            raise ValueError(f"unknown refresh token policy {text!r}")
        needs_period = kind in ("expire_if_unused", "expire_after")
        if needs_period != bool(period):
            raise ValueError(f"refresh token policy {text!r} needs a period like '30d'"
                             if needs_period else f"policy {kind!r} takes no period")
        if not period:
            return cls(kind)
        unit = period[-1]
        if unit not in cls._UNITS or not period[:-1].isdigit() or int(period[:-1]) <= 0:
            raise ValueError(f"bad period {period!r}: use a positive number and m, h or d")
        return cls(kind, int(period[:-1]) * cls._UNITS[unit])

    def render(self) -> str:
        if self.seconds is None:
            return self.kind
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.seconds % size == 0:
                return f"{self.kind}:{self.seconds // size}{unit}"
        raise AssertionError("periods are whole minutes")


@dataclass(frozen=True)
class IpRange:
    start: str
    end: str

    def __post_init__(self) -> None:
        low, high = ipaddress.ip_address(self.start), ipaddress.ip_address(self.end)
        if low.version != high.version:
            raise ValueError(f"bad IP range {self.start} - {self.end}: start and end must both "
                             "be IPv4 or both IPv6")
        if int(low) > int(high):
            raise ValueError(f"bad IP range {self.start} - {self.end}: the start address comes "
                             "after the end address")

    @classmethod
    def parse(cls, text: str) -> IpRange:
        """``start-end``, or one address; raises ValueError."""
        start, _, end = text.partition("-")
        return cls(start.strip(), (end or start).strip())

    def contains(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        low, high = ipaddress.ip_address(self.start), ipaddress.ip_address(self.end)
        return ip.version == low.version and low <= ip <= high  # type: ignore[operator]


@dataclass(frozen=True)
class ObjectPermissions:
    """Per-sObject CRUD rights. Keys are sObject API names; values a set of permission names."""

    grants: dict[str, frozenset[str]] = field(default_factory=dict)

    def allows(self, sobject: str, permission: str) -> bool:
        granted = self._for(sobject)
        if permission in granted:
            return True
        # Salesforce implications: modify_all ⊃ view_all ⊃ read; edit/delete imply read.
        if permission == "read":
            return not granted.isdisjoint({"edit", "delete", "view_all", "modify_all"})
        if permission in ("create", "edit", "delete", "view_all"):
            return "modify_all" in granted
        return False

    def _for(self, sobject: str) -> frozenset[str]:
        lowered = sobject.lower()
        for name, perms in self.grants.items():
            if name.lower() == lowered:
                return perms
        return frozenset()

    def merged(self, other: ObjectPermissions) -> ObjectPermissions:
        out = {k: frozenset(v) for k, v in self.grants.items()}
        for name, perms in other.grants.items():
            key = next((k for k in out if k.lower() == name.lower()), name)
            out[key] = out.get(key, frozenset()) | perms
        return ObjectPermissions(out)


PRIVATE, PUBLIC_READ_ONLY, PUBLIC_READ_WRITE = "Private", "Public Read Only", "Public Read/Write"
#: Org-wide default access levels, as Setup's Sharing Settings names them.
SHARING_LEVELS = (PRIVATE, PUBLIC_READ_ONLY, PUBLIC_READ_WRITE)


@dataclass(frozen=True)
class Sharing:
    """The org-wide defaults: per object with an owner, who besides the owner (and users who
    view or modify all) sees and edits a record. Unlisted objects are Public Read/Write, as
    Salesforce's defaults for the standard objects are."""

    defaults: Mapping[str, str] = field(default_factory=dict)

    def level(self, sobject: str) -> str:
        key = sobject.lower()
        return next((v for k, v in self.defaults.items() if k.lower() == key),
                    PUBLIC_READ_WRITE)


#: Salesforce's choices (Setup: Password Policies, Session Settings). 0 attempts: no limit;
#: 0 minutes: locked until an admin unlocks the user.
LOCKOUT_ATTEMPTS = (3, 5, 10, 0)
LOCKOUT_MINUTES = (15, 30, 60, 0)
SESSION_TIMEOUTS = (15, 30, 60, 120, 240, 480, 720, 1440)


@dataclass(frozen=True)
class OrgPolicies:
    """The org's Password Policies (lockout), Session Settings (timeout), Network Access
    (trusted IP ranges) and API request allocation. ``None``: the server's setting
    (``Settings``) applies; ``Directory.policies`` resolves them."""

    lockout_attempts: int | None = None
    lockout_minutes: int | None = None
    session_timeout_minutes: int | None = None
    daily_api_requests: int | None = None
    trusted_ip_ranges: tuple[IpRange, ...] = ()

    def over(self, defaults: OrgPolicies) -> OrgPolicies:
        """These values, each unset one taken from ``defaults``."""
        def pick(mine: int | None, theirs: int | None) -> int | None:
            return mine if mine is not None else theirs

        return OrgPolicies(
            lockout_attempts=pick(self.lockout_attempts, defaults.lockout_attempts),
            lockout_minutes=pick(self.lockout_minutes, defaults.lockout_minutes),
            session_timeout_minutes=pick(self.session_timeout_minutes,
                                         defaults.session_timeout_minutes),
            daily_api_requests=pick(self.daily_api_requests, defaults.daily_api_requests),
            trusted_ip_ranges=self.trusted_ip_ranges)

    def trusted(self, address: str | None) -> bool:
        """From a trusted network (Network Access): API password logins need no security
        token. No ranges: nothing is trusted."""
        return address is not None and any(r.contains(address) for r in self.trusted_ip_ranges)


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    my_domain: str | None = None
    username_password_flow: bool = False
    sharing: Sharing = field(default_factory=Sharing)
    policies: OrgPolicies = field(default_factory=OrgPolicies)


@dataclass(frozen=True)
class Profile:
    id: str
    org_id: str
    name: str
    standard: bool = False
    api_enabled: bool = True
    view_all_data: bool = False
    modify_all_data: bool = False
    manage_users: bool = False
    objects: ObjectPermissions = field(default_factory=ObjectPermissions)
    login_ip_ranges: tuple[IpRange, ...] = ()
    #: "Transfer Record": change the owner of records the user does not own.
    transfer_record: bool = False
    #: "Bulk API Hard Delete": Bulk ``hardDelete`` jobs (off by default, also for admins).
    bulk_api_hard_delete: bool = False


@dataclass(frozen=True)
class PermissionSet:
    id: str
    org_id: str
    #: The API name (``Name``): letters, digits and single underscores.
    name: str
    api_enabled: bool = False
    view_all_data: bool = False
    modify_all_data: bool = False
    manage_users: bool = False
    objects: ObjectPermissions = field(default_factory=ObjectPermissions)
    transfer_record: bool = False
    bulk_api_hard_delete: bool = False
    #: The ``Label`` Setup shows; empty: the API name.
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Assignment:
    """A permission set assigned to a user: the PermissionSetAssignment sObject (0Pa)."""

    id: str
    org_id: str
    user_id: str
    permission_set_id: str


@dataclass(frozen=True)
class User:
    id: str
    org_id: str
    username: str
    email: str
    first_name: str | None
    last_name: str
    profile_id: str
    active: bool = True
    permission_set_ids: tuple[str, ...] = ()
    failed_logins: int = 0
    locked_until: datetime | None = None
    time_zone: str = "America/Los_Angeles"
    locale: str = "en_US"
    language: str = "en_US"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.first_name else self.last_name


@dataclass(frozen=True)
class Access:
    """What a user may do: their profile plus permission sets, flattened."""

    api_enabled: bool
    view_all_data: bool
    modify_all_data: bool
    manage_users: bool
    objects: ObjectPermissions
    login_ip_ranges: tuple[IpRange, ...]
    transfer_record: bool = False
    bulk_api_hard_delete: bool = False
    #: The org's defaults the user's record access starts from.
    sharing: Sharing = field(default_factory=Sharing)

    @classmethod
    def of(cls, profile: Profile, permission_sets: tuple[PermissionSet, ...],
           sharing: Sharing | None = None) -> Access:
        objects = profile.objects
        for ps in permission_sets:
            objects = objects.merged(ps.objects)
        return cls(
            transfer_record=profile.transfer_record
            or any(ps.transfer_record for ps in permission_sets),
            bulk_api_hard_delete=profile.bulk_api_hard_delete
            or any(ps.bulk_api_hard_delete for ps in permission_sets),
            sharing=sharing or Sharing(),
            api_enabled=profile.api_enabled or any(ps.api_enabled for ps in permission_sets),
            view_all_data=profile.view_all_data or any(ps.view_all_data for ps in permission_sets),
            modify_all_data=profile.modify_all_data
            or any(ps.modify_all_data for ps in permission_sets),
            manage_users=profile.manage_users or any(ps.manage_users for ps in permission_sets),
            objects=objects,
            login_ip_ranges=profile.login_ip_ranges,
        )

    def can(self, sobject: str, permission: str) -> bool:
        if self.modify_all_data:
            return True
        if self.view_all_data and permission in ("read", "view_all"):
            return True
        return self.objects.allows(sobject, permission)

    def sees_all(self, sobject: str) -> bool:
        """View All on the object (or View All Data): every record, whoever owns it."""
        return self.can(sobject, "view_all")

    def edits_all(self, sobject: str) -> bool:
        """Modify All on the object (or Modify All Data): edit, delete, transfer any record."""
        return self.can(sobject, "modify_all")

    def ip_allowed(self, address: str) -> bool:
        """No ranges means no restriction, as on a Salesforce profile."""
        return not self.login_ip_ranges or any(r.contains(address) for r in self.login_ip_ranges)


@dataclass(frozen=True)
class ConnectedApp:
    id: str
    org_id: str
    name: str
    consumer_key: str
    callback_urls: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    certificate: str | None = None  # PEM, enables the JWT bearer flow
    has_secret: bool = True
    require_pkce: bool = False
    require_secret_web_server: bool = True
    require_secret_refresh: bool = True
    enable_implicit: bool = False
    enable_device_flow: bool = False
    enable_client_credentials: bool = False
    run_as_user_id: str | None = None
    permitted_users: PermittedUsers = PermittedUsers.ALL
    authorized_profile_ids: tuple[str, ...] = ()
    authorized_permission_set_ids: tuple[str, ...] = ()
    ip_relaxation: IpRelaxation = IpRelaxation.ENFORCE
    #: The access tokens' inactivity timeout; None: the org's session timeout.
    session_timeout_minutes: int | None = None
    refresh_token_policy: RefreshTokenPolicy = field(default_factory=RefreshTokenPolicy)
    rotate_refresh_tokens: bool = False
    #: RFC 9126: /authorize only with a pushed request's ``request_uri`` (off by default).
    require_par: bool = False
    #: RFC 9449: tokens only for a DPoP proof, bound to its key (off by default).
    require_dpop: bool = False
    #: RFC 7523 §2.2: the client authenticates only with a JWT signed by its certificate's key.
    require_private_key_jwt: bool = False
    #: RFC 8693: the app may trade a user's access token for one of another app (off).
    allow_token_exchange: bool = False
    #: RFC 9068: access tokens as signed JWTs (``typ: at+jwt``) instead of opaque ``00D…!…``.
    jwt_access_tokens: bool = False
    builtin: bool = False

    @property
    def rotates_refresh_tokens(self) -> bool:
        """Rotation is the app's choice, except that a public client's refresh tokens always
        rotate (RFC 9700 §2.2.2: a token that needs no secret must not replay) — the one
        deviation from Salesforce. The built-in PlatformCLI is exempt: the sf CLI keeps the
        first refresh token it got (@salesforce/core authInfo.js) and would be logged out."""
        return self.rotate_refresh_tokens or (not self.has_secret and not self.builtin)

    def pre_authorizes(self, user: User) -> bool:
        """Admin-approved apps pre-authorize users by profile or permission set."""
        return user.profile_id in self.authorized_profile_ids or not set(
            self.authorized_permission_set_ids
        ).isdisjoint(user.permission_set_ids)
