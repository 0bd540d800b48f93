"""Changing the directory by its rules: standard profiles, users with hashed passwords and
sealed security tokens, connected apps with generated keys and sealed secrets."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from localforce.directory import audit
from localforce.directory.audit import Actor, SetupChange
from localforce.directory.ports import DirectoryStore
from localforce.domain import ids
from localforce.domain.models import (
    LOCKOUT_ATTEMPTS,
    LOCKOUT_MINUTES,
    SESSION_TIMEOUTS,
    SHARING_LEVELS,
    Assignment,
    ConnectedApp,
    ObjectPermissions,
    Org,
    OrgPolicies,
    PermissionSet,
    Profile,
    Sharing,
    User,
)
from localforce.security.passwords import hash_password
from localforce.security.secretbox import SecretBox
from localforce.security.tokens import random_alnum

#: The standard business objects the standard profiles grant rights on.
STANDARD_OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Case", "Task")

SYSTEM_ADMINISTRATOR = "System Administrator"
STANDARD_USER = "Standard User"
READ_ONLY = "Read Only"
API_ONLY = "Minimum Access - API Only Integrations"

#: The public client every org has, so that ``sf org login web`` works unchanged.
PLATFORM_CLI = "PlatformCLI"

_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class DirectoryError(ValueError):
    """A change the directory's rules refuse; the message names the field, and ``field``
    (when known) is the form field or seed key it is about, for the admin console."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AlreadyAssigned(DirectoryError):
    """The user holds this permission set already."""


def standard_profiles(org_id: str) -> list[Profile]:
    crud = frozenset({"read", "create", "edit", "delete"})
    return [
        Profile(ids.new_id("00e"), org_id, SYSTEM_ADMINISTRATOR, standard=True, api_enabled=True,
                view_all_data=True, modify_all_data=True, manage_users=True,
                transfer_record=True),
        Profile(ids.new_id("00e"), org_id, STANDARD_USER, standard=True, api_enabled=True,
                objects=ObjectPermissions({name: crud for name in STANDARD_OBJECTS})),
        Profile(ids.new_id("00e"), org_id, READ_ONLY, standard=True, api_enabled=True,
                objects=ObjectPermissions({n: frozenset({"read"}) for n in STANDARD_OBJECTS})),
        Profile(ids.new_id("00e"), org_id, API_ONLY, standard=True, api_enabled=True),
    ]


def generate_consumer_key() -> str:
    """Salesforce-like: ``3MVG9`` and 80 characters of ``[A-Za-z0-9._]``."""
    return "3MVG9" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(80))


def generate_consumer_secret() -> str:
    return secrets.token_hex(32).upper()


def generate_security_token() -> str:
    return random_alnum(24)


def check_callback_url(url: str) -> str:
    """``https``; ``http`` only on loopback hosts (RFC 8252 §7.3); or a native app's
    private-use scheme in reverse-domain form (``com.example.app:/cb``, RFC 8252 §7.1).
    Anything else (``javascript:``, ``data:``, ``file:``, a bare ``myapp:``) is refused: the
    browser would run or open it with the code or token in it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or (scheme in ("http", "https") and not parts.netloc):
        raise DirectoryError(f"callback URL {url!r} is not an absolute URL")
    if parts.fragment:
        raise DirectoryError(f"callback URL {url!r} must not have a fragment")
    if scheme == "http" and (parts.hostname or "") not in _LOOPBACK_HOSTS:
        raise DirectoryError(f"callback URL {url!r} must use https (http only for loopback)")
    if scheme not in ("http", "https") and "." not in scheme:
        raise DirectoryError(f"callback URL {url!r}: only https, http on loopback or a "
                             "reverse-domain private-use scheme (com.example.app:/cb)")
    return url


@dataclass(frozen=True)
class CertificateInfo:
    """What Setup shows of an app's certificate."""

    subject: str
    not_after: str  # ISO 8601, UTC
    sha256: str  # colon-separated upper-case hex, as browsers show it


def check_certificate(pem: str) -> CertificateInfo:
    """Parse a PEM X.509 certificate (the JWT bearer flow's key); raises DirectoryError."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(pem.strip().encode())
    except ValueError as exc:
        raise DirectoryError("certificate: is not a PEM X.509 certificate",
                             "certificate") from exc
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return CertificateInfo(cert.subject.rfc4514_string(),
                           cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)))


def check_app(app: ConnectedApp) -> None:
    """The connected-app rules every way in (Setup, CLI, seed) shares; raises DirectoryError
    naming the field."""
    if not app.name.strip():
        raise DirectoryError("name: required", "name")
    for url in app.callback_urls:
        try:
            check_callback_url(url)
        except DirectoryError as exc:
            raise DirectoryError(str(exc), "callback_urls") from None
    if app.enable_client_credentials and not app.run_as_user_id:
        raise DirectoryError("run_as: required when client credentials are enabled", "run_as")
    timeout = app.session_timeout_minutes
    if timeout is not None and not 1 <= timeout <= 24 * 60:
        raise DirectoryError("session_timeout_minutes: must be between 1 and 1440",
                             "session_timeout_minutes")
    key = app.consumer_key
    if key and not key.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise DirectoryError("consumer_key: may only contain letters, digits, '.', '_' and '-'",
                             "consumer_key")
    if app.certificate:
        check_certificate(app.certificate)


PROFILE_NAME_MAX = 255
API_NAME_MAX = 80


def api_name_of(label: str) -> str:
    """The API name Setup proposes for a label: runs of other characters become one ``_``,
    and a leading digit gets an ``X`` (``Account deleters (EU)`` -> ``Account_deleters_EU``)."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    return ("X" + name if name[:1].isdigit() else name)[:API_NAME_MAX].rstrip("_")


def check_api_name(name: str) -> None:
    """Salesforce's rule for an API (developer) name: it starts with a letter, holds only
    letters, digits and underscores, has no two underscores in a row and does not end in one,
    at most 80 characters."""
    if (not name or len(name) > API_NAME_MAX
            or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
            or "__" in name or name.endswith("_")):
        raise DirectoryError(
            f"api_name: {name!r} must begin with a letter, use only letters, digits and "
            "single underscores, not end with an underscore, and be at most 80 characters",
            "api_name")


#: The largest API request allocation an org may set (Salesforce's allocations are below it).
MAX_DAILY_API_REQUESTS = 1_000_000_000
#: Salesforce's defaults, for an org and a server that set none.
DEFAULT_POLICIES = OrgPolicies(lockout_attempts=10, lockout_minutes=15,
                               session_timeout_minutes=120, daily_api_requests=15000)


def _choices(values: tuple[int, ...], zero: str) -> str:
    shown = [str(v) for v in values if v]
    return f"{', '.join(shown)} or 0 ({zero})" if 0 in values else ", ".join(shown)


def check_policies(policies: OrgPolicies) -> None:
    """The org-policy rules every way in (Setup, CLI, seed) shares: Salesforce's choices;
    raises DirectoryError naming the field. (A trusted IP range is checked as it is made:
    ``IpRange``, same family, start not after end.)"""
    rules = (("lockout_attempts", LOCKOUT_ATTEMPTS, "no limit"),
             ("lockout_minutes", LOCKOUT_MINUTES, "until an admin unlocks"),
             ("session_timeout_minutes", SESSION_TIMEOUTS, ""))
    for name, allowed, zero in rules:
        value = getattr(policies, name)
        if value is not None and value not in allowed:
            raise DirectoryError(f"{name}: must be one of {_choices(allowed, zero)}", name)
    api = policies.daily_api_requests
    if api is not None and not 1 <= api <= MAX_DAILY_API_REQUESTS:
        raise DirectoryError(f"daily_api_requests: must be between 1 and "
                             f"{MAX_DAILY_API_REQUESTS}", "daily_api_requests")


def _minutes(value: int | None, zero: str) -> str:
    if not value:
        return zero
    return f"{value // 60} hours" if value % 60 == 0 and value > 60 else f"{value} minutes"


def policy_changes(before: OrgPolicies, after: OrgPolicies) -> list[tuple[str, str, str]]:
    """The SetupAuditTrail entries (action, section, display) of a change of the org's
    (resolved) policies: one per setting, one per trusted IP range added or removed."""
    out = []
    if before.lockout_attempts != after.lockout_attempts:
        def attempts(n: int | None) -> str:
            return str(n) if n else "No limit"
        out.append(("changedLockoutAttempts", audit.SECTION_PASSWORD,
                    f"Changed maximum invalid login attempts from "
                    f"{attempts(before.lockout_attempts)} to {attempts(after.lockout_attempts)}"))
    if before.lockout_minutes != after.lockout_minutes:
        out.append(("changedLockoutPeriod", audit.SECTION_PASSWORD,
                    f"Changed lockout effective period from "
                    f"{_minutes(before.lockout_minutes, 'Forever')} to "
                    f"{_minutes(after.lockout_minutes, 'Forever')}"))
    if before.session_timeout_minutes != after.session_timeout_minutes:
        out.append(("changedSessionTimeout", audit.SECTION_SESSION,
                    f"Changed session timeout from "
                    f"{_minutes(before.session_timeout_minutes, '')} to "
                    f"{_minutes(after.session_timeout_minutes, '')}"))
    if before.daily_api_requests != after.daily_api_requests:
        out.append(("changedApiRequestAllocation", audit.SECTION_COMPANY,
                    f"Changed API request allocation (24 hours) from "
                    f"{before.daily_api_requests} to {after.daily_api_requests}"))
    for r in after.trusted_ip_ranges:
        if r not in before.trusted_ip_ranges:
            out.append(("addedTrustedIpRange", audit.SECTION_NETWORK,
                        f"Added trusted IP range {r.start} to {r.end}"))
    for r in before.trusted_ip_ranges:
        if r not in after.trusted_ip_ranges:
            out.append(("deletedTrustedIpRange", audit.SECTION_NETWORK,
                        f"Deleted trusted IP range {r.start} to {r.end}"))
    return out


@dataclass
class Directory:
    store: DirectoryStore
    box: SecretBox
    clock: Callable[[], float]
    #: Who the changes made through this instance are attributed to in the audit trail.
    actor: Actor = field(default_factory=Actor)
    #: The server's settings: the policies of an org that has not set its own.
    defaults: OrgPolicies = DEFAULT_POLICIES
    #: ``check_secret``'s MACs of stored secrets, by app and sealed text (shared by copies).
    _secret_macs: _SecretMacs = field(default_factory=lambda: _SecretMacs(), repr=False,
                                      compare=False)

    def as_actor(self, actor: Actor) -> Directory:
        return replace(self, actor=actor)

    def record(self, org_id: str, action: str, section: str, display: str) -> None:
        """Add one SetupAuditTrail entry, attributed to this instance's actor."""
        self.store.record_setup_change(SetupChange(
            ids.new_id("0Ym"), org_id, action, section, display[:1000],
            int(self.clock() * 1000), self.actor.user_id, self.actor.context))

    # -- orgs -----------------------------------------------------------------------------

    def create_org(self, name: str, org_id: str | None = None, my_domain: str | None = None,
                   username_password_flow: bool = False) -> Org:
        """A new org with the standard profiles and the built-in PlatformCLI app."""
        org = Org(ids.to18(org_id) if org_id else ids.new_id("00D"), name, my_domain,
                  username_password_flow)
        with self.store.transaction() as store:
            store.save_org(org)
            for profile in standard_profiles(org.id):
                store.save_profile(profile)
            store.save_app(ConnectedApp(
                id=ids.new_id("0H4"), org_id=org.id, name=PLATFORM_CLI, consumer_key=PLATFORM_CLI,
                callback_urls=("http://localhost:1717/OauthRedirect",),
                scopes=("refresh_token", "api", "web"), has_secret=False,
                require_pkce=True, require_secret_web_server=False,
                require_secret_refresh=False, builtin=True))
        return org

    def set_sharing(self, org: Org, sobject: str, level: str) -> Org:
        """Set an object's org-wide default (Setup's Sharing Settings): Private, Public Read
        Only or Public Read/Write. Running API calls see it within the caches' second."""
        if level not in SHARING_LEVELS:
            raise DirectoryError(f"sharing: {sobject}: {level!r} is not one of "
                                 f"{', '.join(SHARING_LEVELS)}")
        if not sobject.replace("_", "").isalnum() or not sobject[:1].isalpha():
            raise DirectoryError(f"sharing: {sobject!r} is not an object name")
        before = org.sharing.level(sobject)
        defaults = {k: v for k, v in org.sharing.defaults.items() if k.lower() != sobject.lower()}
        changed = replace(org, sharing=Sharing({**defaults, sobject: level}))
        with self.store.transaction() as store:
            store.save_org(changed)
            replace(self, store=store).record(
                org.id, "changedSharingDefault", audit.SECTION_SHARING,
                f"Changed {sobject} organization-wide default from {before} to {level}")
        return changed

    def set_username_password_flow(self, org: Org, allowed: bool) -> Org:
        """Allow or block the OAuth username-password flow for the org."""
        if org.username_password_flow == allowed:
            return org
        changed = replace(org, username_password_flow=allowed)
        with self.store.transaction() as store:
            store.save_org(changed)
            replace(self, store=store).record(
                org.id, "changedOAuthUsernamePasswordFlow", audit.SECTION_OAUTH,
                f"{'Allowed' if allowed else 'Blocked'} OAuth Username-Password Flows")
        return changed

    def policies(self, org_id: str) -> OrgPolicies:
        """The org's policies in force, every one set: the org's own over the server's.
        Read through the store's cache: a change is in force within its second."""
        org = self.store.get_org(org_id)
        return (org.policies if org is not None else OrgPolicies()).over(self.defaults)

    def session_seconds(self, org_id: str) -> int:
        """The org's session timeout in seconds (``policies``' value, read as
        ``api_allocation`` reads its own: on every grant, nothing built)."""
        org = self.store.get_org(org_id)
        own = org.policies.session_timeout_minutes if org is not None else None
        minutes = own if own is not None else self.defaults.session_timeout_minutes
        return (minutes or DEFAULT_POLICIES.session_timeout_minutes or 120) * 60

    def api_allocation(self, org_id: str) -> int:
        """The org's rolling 24-hour API request allocation (0: no limit). Read on every data
        API request: one cached org read, nothing built."""
        org = self.store.get_org(org_id)
        own = org.policies.daily_api_requests if org is not None else None
        return (own if own is not None else self.defaults.daily_api_requests) or 0

    def set_policies(self, org: Org, **changes: Any) -> Org:
        """Change some of the org's policies (keywords: ``OrgPolicies`` fields; a value of
        None goes back to the server's setting). One SetupAuditTrail entry per setting that
        changes, and per trusted IP range added or removed (Setup's Password Policies, Session
        Settings, Network Access). Running API calls see it within the caches' second."""
        try:
            wanted = replace(org.policies, **changes)
        except TypeError as exc:
            raise DirectoryError(f"unknown org setting: {exc}") from None
        check_policies(wanted)
        if wanted == org.policies:
            return org
        entries = policy_changes(org.policies.over(self.defaults), wanted.over(self.defaults))
        changed = replace(org, policies=wanted)
        with self.store.transaction() as store:
            store.save_org(changed)
            tx = replace(self, store=store)
            for action, section, display in entries:
                tx.record(org.id, action, section, display)
        return changed

    def default_org(self) -> Org | None:
        orgs = self.store.list_orgs()
        return orgs[0] if orgs else None

    # -- profiles and permission sets -----------------------------------------------------

    def create_profile(self, org_id: str, name: str, clone_of: str) -> Profile:
        """Setup's New Profile: a custom profile with the rights of an existing one of the org
        (``clone_of``, its id), as Salesforce clones. One audit entry."""
        name = name.strip()
        if not name:
            raise DirectoryError("name: required", "name")
        if len(name) > PROFILE_NAME_MAX:
            raise DirectoryError(f"name: at most {PROFILE_NAME_MAX} characters", "name")
        with self.store.transaction() as store:
            source = store.get_profile(clone_of)
            if source is None or source.org_id != org_id:
                raise DirectoryError("clone_of: no such profile in the org", "clone_of")
            if store.find_profile(org_id, name) is not None:
                raise DirectoryError(f"name: a profile named {name!r} already exists", "name")
            profile = replace(source, id=ids.new_id("00e"), name=name, standard=False)
            store.save_profile(profile)
            replace(self, store=store).record(
                org_id, "profileCreate", audit.SECTION_USERS,
                f"Created profile {name} (cloned from {source.name})")
        return profile

    def create_permission_set(self, org_id: str, label: str, api_name: str = ""
                              ) -> PermissionSet:
        """Setup's New Permission Set: a label and an API name (made from the label when
        empty, as Setup fills it in), no rights yet. One audit entry."""
        label = label.strip()
        if not label:
            raise DirectoryError("label: required", "label")
        if len(label) > API_NAME_MAX:
            raise DirectoryError(f"label: at most {API_NAME_MAX} characters", "label")
        api_name = api_name.strip() or api_name_of(label)
        check_api_name(api_name)
        with self.store.transaction() as store:
            if store.find_permission_set(org_id, api_name) is not None:
                raise DirectoryError(f"api_name: a permission set named {api_name!r} already "
                                     "exists", "api_name")
            ps = PermissionSet(ids.new_id("0PS"), org_id, api_name,
                               label="" if label == api_name else label)
            store.save_permission_set(ps)
            replace(self, store=store).record(
                org_id, "PermSetCreate", audit.SECTION_USERS,
                f"Created permission set {label} ({api_name})")
        return ps

    def save_access(self, item: Profile | PermissionSet) -> Profile | PermissionSet:
        """Save a profile's or permission set's changed rights (object permissions, API
        Enabled, system permissions, login IP ranges); one audit entry if anything changed.
        Running API calls see it within the caches' second."""
        is_profile = isinstance(item, Profile)
        with self.store.transaction() as store:
            current = (store.get_profile(item.id) if is_profile
                       else store.get_permission_set(item.id))
            if current is None or current.org_id != item.org_id:
                raise DirectoryError("no such profile or permission set")
            item = replace(item, name=current.name)
            if item == current:
                return item
            if isinstance(item, Profile):
                store.save_profile(item)
            else:
                store.save_permission_set(item)
            label = "profile" if is_profile else "permission set"
            replace(self, store=store).record(
                item.org_id, "profileChanged" if is_profile else "PermSetChanged",
                audit.SECTION_USERS, f"Changed {label} {item.name}")
        return item

    # -- users ----------------------------------------------------------------------------

    def create_user(self, org_id: str, username: str, password: str | None, profile: str,
                    email: str | None = None, first_name: str | None = None,
                    last_name: str | None = None, security_token: str | None = None,
                    permission_sets: tuple[str, ...] = (), active: bool = True) -> tuple[User, str]:
        """Create a user; returns it with its (given or generated) security token."""
        if self.store.find_user(username) is not None:
            raise DirectoryError(f"username {username!r} is already taken", "username")
        user = User(ids.new_id("005"), org_id, username, email or username, first_name,
                    last_name or username.split("@")[0], self._profile_id(org_id, profile),
                    active, self._permission_set_ids(org_id, permission_sets))
        token = security_token or generate_security_token()
        with self.store.transaction() as store:
            store.save_user(user)
            if password is not None:
                store.set_password_hash(user.id, hash_password(password))
            store.set_security_token(user.id, self.box.seal(token, user.id))
            tx = replace(self, store=store)
            tx.record(org_id, "createduser", audit.SECTION_USERS, f"Created new user {username}")
            if user.permission_set_ids:
                tx.record(org_id, "PermSetAssign", audit.SECTION_USERS,
                          f"Assigned permission sets {', '.join(permission_sets)} to user "
                          f"{username}")
        return user, token

    def set_password(self, user: User, password: str) -> None:
        with self.store.transaction() as store:
            store.set_password_hash(user.id, hash_password(password))
            replace(self, store=store).record(user.org_id, "changedpassword", audit.SECTION_USERS,
                                              f"Changed password for user {user.username}")

    def set_active(self, user: User, active: bool) -> User:
        if not active and user.id == self.actor.user_id:
            raise DirectoryError("active: you cannot deactivate your own user", "active")
        changed = replace(user, active=active)
        with self.store.transaction() as store:
            store.save_user(changed)
            verb = "Activated" if active else "Deactivated"
            replace(self, store=store).record(
                user.org_id, "activateduser" if active else "deactivateduser",
                audit.SECTION_USERS, f"{verb} user {user.username}")
        return changed

    def unlock(self, user: User) -> None:
        with self.store.transaction() as store:
            store.unlock_user(user.id)
            replace(self, store=store).record(user.org_id, "unlockeduser", audit.SECTION_USERS,
                                              f"Unlocked user {user.username}")

    def assign_permission_set(self, user_id: str, permission_set_id: str) -> Assignment:
        """Assign a permission set of the user's org to the user (the PermissionSetAssignment
        sObject's create); read and written in one transaction, so two concurrent assignments
        both land. Raises DirectoryError naming the field that is not of the org."""
        with self.store.transaction() as store:
            user, ps = store.get_user(user_id), store.get_permission_set(permission_set_id)
            if user is None:
                raise DirectoryError("AssigneeId: no such user")
            if ps is None or ps.org_id != user.org_id:
                raise DirectoryError("PermissionSetId: no such permission set in the user's org")
            if ps.id in user.permission_set_ids:
                raise AlreadyAssigned(f"permission set {ps.name!r} is already assigned to "
                                      f"{user.username}")
            store.save_user(replace(user, permission_set_ids=tuple(sorted(
                (*user.permission_set_ids, ps.id)))))
            replace(self, store=store).record(
                user.org_id, "PermSetAssign", audit.SECTION_USERS,
                f"Permission set {ps.name}: assigned to user {user.username}")
            assignment = store.find_assignment(user.id, ps.id)
        assert assignment is not None
        return assignment

    def unassign_permission_set(self, assignment: Assignment) -> None:
        """Take the permission set away again (the PermissionSetAssignment's delete)."""
        with self.store.transaction() as store:
            user = store.get_user(assignment.user_id)
            ps = store.get_permission_set(assignment.permission_set_id)
            if user is None or ps is None or ps.id not in user.permission_set_ids:
                return  # gone already
            store.save_user(replace(user, permission_set_ids=tuple(
                i for i in user.permission_set_ids if i != ps.id)))
            replace(self, store=store).record(
                user.org_id, "PermSetUnassign", audit.SECTION_USERS,
                f"Permission set {ps.name}: unassigned from user {user.username}")

    def update_user(self, user: User, *, username: str, email: str, first_name: str | None,
                    last_name: str, profile: str) -> User:
        """Change a user's details and profile (Setup's user edit page)."""
        username, email = username.strip(), email.strip()
        if "@" not in username:
            raise DirectoryError(f"username: {username!r} must look like an email address",
                                 "username")
        if "@" not in email:
            raise DirectoryError(f"email: {email!r} is not an email address", "email")
        if not last_name.strip():
            raise DirectoryError("last_name: required", "last_name")
        profile_id = self._profile_id(user.org_id, profile)
        changed = replace(user, username=username, email=email,
                          first_name=(first_name or "").strip() or None,
                          last_name=last_name.strip(), profile_id=profile_id)
        if changed == user:
            return user
        with self.store.transaction() as store:
            other = store.find_user(username)
            if other is not None and other.id != user.id:
                raise DirectoryError(f"username: {username!r} is already taken", "username")
            store.save_user(changed)
            tx = replace(self, store=store)
            if user.username != username:
                tx.record(user.org_id, "changedusername", audit.SECTION_USERS,
                          f"Changed username {user.username} to {username}")
            tx.record_user_changes(user, changed)
        return changed

    def record_user_changes(self, before: User, after: User) -> None:
        """The SetupAuditTrail entries of a user's saved changes (one per kind of change)."""
        org_id, name = after.org_id, after.username
        if before.active != after.active:
            verb = "Activated" if after.active else "Deactivated"
            self.record(org_id, "activateduser" if after.active else "deactivateduser",
                        audit.SECTION_USERS, f"{verb} user {name}")
        if before.profile_id != after.profile_id:
            self.record(org_id, "changedprofileforuser", audit.SECTION_USERS,
                        f"Changed profile for user {name}")
        if before.permission_set_ids != after.permission_set_ids:
            self.record(org_id, "PermSetAssign", audit.SECTION_USERS,
                        f"Changed permission set assignments of user {name}")
        if (before.email, before.first_name, before.last_name) != (
                after.email, after.first_name, after.last_name):
            self.record(org_id, "changeduser", audit.SECTION_USERS,
                        f"Changed details of user {name}")

    def reset_password(self, user: User) -> str:
        """A new generated password (shown once to the admin); the old one stops working."""
        password = random_alnum(16)
        with self.store.transaction() as store:
            store.set_password_hash(user.id, hash_password(password))
            replace(self, store=store).record(user.org_id, "resetpassword", audit.SECTION_USERS,
                                              f"Reset password for user {user.username}")
        return password

    def reset_security_token(self, user: User) -> str:
        """A new security token; the old one stops working for API password logins."""
        token = generate_security_token()
        with self.store.transaction() as store:
            store.set_security_token(user.id, self.box.seal(token, user.id))
            replace(self, store=store).record(user.org_id, "resetsecuritytoken",
                                              audit.SECTION_USERS,
                                              f"Reset security token for user {user.username}")
        return token

    def security_token(self, user_id: str) -> str | None:
        sealed = self.store.get_credentials(user_id)[1]
        return self.box.open(sealed, user_id) if sealed else None

    def _profile_id(self, org_id: str, name: str) -> str:
        profile = self.store.find_profile(org_id, name)
        if profile is None:
            raise DirectoryError(f"profile: no profile named {name!r}", "profile")
        return profile.id

    def _permission_set_ids(self, org_id: str, names: tuple[str, ...]) -> tuple[str, ...]:
        found = []
        for name in names:
            ps = self.store.find_permission_set(org_id, name)
            if ps is None:
                raise DirectoryError(f"permission_sets: no permission set named {name!r}",
                                     "permission_sets")
            found.append(ps.id)
        return tuple(sorted(found))

    # -- connected apps -------------------------------------------------------------------

    def create_app(self, app: ConnectedApp, secret: str | None) -> ConnectedApp:
        """Save a new app. ``app.consumer_key`` may be empty: one is generated."""
        check_app(app)
        app = replace(app, consumer_key=app.consumer_key or generate_consumer_key(),
                      has_secret=secret is not None)
        with self.store.transaction() as store:
            existing = store.find_app_by_key(app.consumer_key, app.org_id)
            if existing is not None and existing.id != app.id:
                raise DirectoryError(f"consumer_key {app.consumer_key!r} is already in use")
            named = store.find_app(app.org_id, app.name)
            if named is not None and named.id != app.id:
                raise DirectoryError(f"name: an app named {app.name!r} already exists")
            store.save_app(app)
            store.set_app_secret(app.id, self.box.seal(secret, app.id) if secret else None)
            tx = replace(self, store=store)
            tx.record(app.org_id, "createdConnectedApp", audit.SECTION_APPS,
                      f"Created connected app {app.name}")
            if app.certificate:
                tx.record(app.org_id, "insertCertificate", audit.SECTION_CERTIFICATES,
                          f"Uploaded certificate for connected app {app.name}")
        return app

    def update_app(self, app: ConnectedApp) -> ConnectedApp:
        """Save the changed settings of an existing app (its key and secret unchanged)."""
        check_app(app)
        with self.store.transaction() as store:
            current = store.get_app(app.id)
            if current is None or current.org_id != app.org_id:
                raise DirectoryError("no such connected app")
            app = replace(app, consumer_key=current.consumer_key, has_secret=current.has_secret,
                          builtin=current.builtin)
            if app == current:
                return app
            other = store.find_app(app.org_id, app.name)
            if other is not None and other.id != app.id:
                raise DirectoryError(f"name: {app.name!r} is already used by another app",
                                     "name")
            store.save_app(app)
            tx = replace(self, store=store)
            tx.record(app.org_id, "changedConnectedApp", audit.SECTION_APPS,
                      f"Changed connected app {app.name}")
            if app.certificate and app.certificate != current.certificate:
                tx.record(app.org_id, "insertCertificate", audit.SECTION_CERTIFICATES,
                          f"Uploaded certificate for connected app {app.name}")
        return app

    def reveal_secret(self, app: ConnectedApp) -> str | None:
        sealed = self.store.get_app_secret(app.id)
        return self.box.open(sealed, app.id) if sealed else None

    def rotate_secret(self, app: ConnectedApp) -> str:
        secret = generate_consumer_secret()
        with self.store.transaction() as store:
            store.set_app_secret(app.id, self.box.seal(secret, app.id))
            replace(self, store=store).record(app.org_id, "rotatedConsumerSecret",
                                              audit.SECTION_APPS,
                                              f"Rotated the consumer secret of {app.name}")
        return secret

    def check_secret(self, app: ConnectedApp, presented: str | None) -> bool:
        """Constant-time comparison of a presented consumer secret: of its MAC and the stored
        secret's (``_SecretMacs``), which is kept by the sealed text it was opened from, so a
        rotated secret, sealed anew, is never checked against the old one's."""
        if presented is None:
            return False
        sealed = self.store.get_app_secret(app.id)
        if not sealed:
            return False
        macs = self._secret_macs
        stored = macs.of(app.id, sealed)
        if stored is None:
            stored = macs.keep(app.id, sealed, self.box.open(sealed, app.id))
        return hmac.compare_digest(stored, macs.mac(presented))


class _SecretMacs:
    """Keyed BLAKE2b MACs, under a key of this process's own, of the consumer secrets
    ``check_secret`` opened, by (app Id, sealed text): opening one (AES-GCM) was most of a
    client-credentials grant's client authentication, a MAC costs a third of that (HMAC-SHA256
    through ``hmac`` cost as much as the opening), and no secret is kept in the clear.
    Bounded; a full map is emptied."""

    MAX = 1024

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._macs: dict[tuple[str, str], bytes] = {}

    def mac(self, secret: str) -> bytes:
        return hashlib.blake2b(secret.encode(), key=self._key, digest_size=32).digest()

    def of(self, app_id: str, sealed: str) -> bytes | None:
        return self._macs.get((app_id, sealed))

    def keep(self, app_id: str, sealed: str, secret: str) -> bytes:
        if len(self._macs) >= self.MAX:
            self._macs.clear()
        mac = self._macs[(app_id, sealed)] = self.mac(secret)
        return mac
