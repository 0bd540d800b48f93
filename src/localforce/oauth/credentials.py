"""Who may log in: password + security token checks, lockout counting, and the rules every
login obeys (active user, profile login IP ranges, admin-approved apps), with one LoginHistory
row per attempt.

Shared by the password grant, SOAP ``login()``, the login page, and (through ``admit``) the
JWT bearer, client-credentials and refresh flows. Statuses are Salesforce's LoginHistory texts
(salesforce-wire.md §7.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from localforce.caching import TtlCache
from localforce.directory.ports import RightsLookup
from localforce.domain.models import (
    Access,
    ConnectedApp,
    IpRelaxation,
    OrgPolicies,
    PermittedUsers,
    User,
)
from localforce.limits.rate import LOGIN_RATE_EXCEEDED, LoginRateLimiter, RateLimited
from localforce.oauth import ports
from localforce.oauth.ports import LoginAttempt, LoginHistory
from localforce.security.passwords import verify_password
from localforce.security.tokens import constant_time_equals


@dataclass(frozen=True)
class LoginContext:
    """Where an attempt comes from, as LoginHistory records it."""

    login_type: str
    source_ip: str | None = None
    app: ConnectedApp | None = None
    login_url: str | None = None
    api_type: str | None = None
    api_version: str | None = None
    #: The refresh flow of an "enforce, but relax for refresh tokens" app skips IP checks.
    relax_ip: bool = False
    #: The client-credentials Run As user: the admin chose it for the app, so it needs no
    #: admin-approval assignment.
    run_as: bool = False


#: Seconds between two writes of one user's last login by one process.
LAST_LOGIN_EVERY = 60.0


class LoginFailed(Exception):
    """A refused login. ``status`` is the LoginHistory Status text."""

    def __init__(self, status: str, user: User | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.user = user


def user_access(rights: RightsLookup, user: User) -> Access:
    """The user's profile plus permission sets, flattened."""
    profile = rights.get_profile(user.profile_id)
    if profile is None:
        raise LookupError(f"user {user.id} has no profile")
    sets = tuple(ps for ps in (rights.get_permission_set(i)
                               for i in user.permission_set_ids) if ps is not None)
    org = rights.get_org(user.org_id)
    return Access.of(profile, sets, org.sharing if org else None)


#: "Locked until an admin unlocks" (a lockout period of 0, "Forever"): the last second a
#: datetime holds, 9999-12-31T23:59:59Z.
FOREVER = 253402300799


class LoginUsers(Protocol):
    """The directory store's verbs a login needs."""

    def find_user(self, username: str, *, fresh: bool = True) -> User | None: ...

    def get_credentials(self, user_id: str) -> tuple[str | None, str | None]: ...

    def record_login_failure(self, user_id: str, locked_until: int | None) -> int: ...

    def record_login_success(self, user_id: str, now: int) -> None: ...


class LoginRules(Protocol):
    """The directory's rules a login needs (``Directory``)."""

    def policies(self, org_id: str) -> OrgPolicies: ...

    def security_token(self, user_id: str) -> str | None: ...


class Logins:
    """Lockout attempts and period, and the trusted IP ranges, are the user's org's policies
    (``Directory.policies``: the org's own over the server's settings), read through the
    store's cache, so a change from Setup is in force within its second.

    ``users``: the directory's store; ``rules``: the directory; ``access_of(user)``: the user's
    flattened access (``user_access``), for the profile's login IP ranges."""

    def __init__(self, users: LoginUsers, rules: LoginRules, access_of: Callable[[User], Access],
                 history: LoginHistory, clock: Callable[[], float], *,
                 rate: LoginRateLimiter | None = None) -> None:
        self._users = users
        self._rules = rules
        self._access_of = access_of
        self.history = history
        self._clock = clock
        self._rate = rate
        #: Users whose last login this process wrote within the minute (see ``succeeded``).
        self._recent_logins: TtlCache[bool] = TtlCache(LAST_LOGIN_EVERY, clock=clock,
                                                           shared=False)

    def password(self, username: str, presented: str, context: LoginContext, *,
                 require_token: bool = True) -> User:
        """Check ``password`` (+ security token appended, for API logins) and admit the user.

        ``require_token``: an API login (OAuth password grant, SOAP ``login()``); from an
        address inside the org's trusted IP ranges (Network Access) the token may be left off,
        as on Salesforce. The login page never takes one.
        Every failure is recorded and counts toward lockout; an unknown username costs the same
        argon2 work as a wrong password.
        """
        user = self._users.find_user(username)
        if user is None:
            verify_password(None, presented)
            raise self.failed(context, ports.INVALID_PASSWORD, username=username)
        self._rate_limit(user, context)
        if user.locked_until is not None and user.locked_until.timestamp() > self._clock():
            # The same argon2 work as a wrong password: a locked account must not be told
            # apart by timing either (anchors.md §3 #35).
            verify_password(None, presented)
            raise self.failed(context, ports.PASSWORD_LOCKOUT, user)
        policies = self._rules.policies(user.org_id)
        if not self._secret_matches(user, presented, require_token,
                                    trusted=policies.trusted(context.source_ip)):
            self._count_failure(user, policies)
            raise self.failed(context, ports.INVALID_PASSWORD, user)
        self.admit(user, context, counted=True)
        self.succeeded(user, context)
        return user

    def _rate_limit(self, user: User, context: LoginContext) -> None:
        """Salesforce's login rate limit (3,600 logins per user per hour by default)."""
        if self._rate is None:
            return
        try:
            self._rate.user_attempt(user.id)
        except RateLimited:
            raise self.failed(context, LOGIN_RATE_EXCEEDED, user) from None

    def _secret_matches(self, user: User, presented: str, require_token: bool, *,
                        trusted: bool = False) -> bool:
        """One argon2 verification whatever the case. From a trusted address the token may be
        appended or not: with the token's text at the end, what precedes it is the password."""
        password_hash, _ = self._users.get_credentials(user.id)
        password = presented
        token_ok = True
        if require_token:
            token = self._rules.security_token(user.id) or ""
            password = presented[: len(presented) - len(token)] if token else presented
            token_ok = bool(token) and constant_time_equals(presented[len(password):], token)
            if trusted and not token_ok:
                password, token_ok = presented, True
        return verify_password(password_hash, password) and token_ok

    def _count_failure(self, user: User, policies: OrgPolicies) -> None:
        attempts, minutes = policies.lockout_attempts, policies.lockout_minutes
        lock = None
        if attempts and user.failed_logins + 1 >= attempts:
            lock = int(self._clock()) + minutes * 60 if minutes else FOREVER
        self._users.record_login_failure(user.id, lock)

    def admit(self, user: User, context: LoginContext, *, counted: bool = False) -> None:
        """The rules every login obeys, whatever proved the identity. Records and raises
        ``LoginFailed`` on refusal; records nothing on success (call ``succeeded``).
        ``counted``: the login rate limit was already applied (by ``password``)."""
        if not counted:
            self._rate_limit(user, context)
        app = context.app
        # An app belongs to one org, except the built-in PlatformCLI that every org has its
        # own copy of (the caller switches to the user's copy after login).
        if app is not None and not app.builtin and user.org_id != app.org_id:
            raise self.failed(context, ports.INVALID_PASSWORD, user)
        if not user.active:
            raise self.failed(context, ports.USER_INACTIVE, user)
        relaxed = context.relax_ip or (app is not None and app.ip_relaxation == IpRelaxation.RELAX)
        if not relaxed and context.source_ip is not None:
            if not self._access_of(user).ip_allowed(context.source_ip):
                raise self.failed(context, ports.RESTRICTED_IP, user)
        if (app is not None and app.permitted_users == PermittedUsers.ADMIN_APPROVED
                and not app.pre_authorizes(user) and not context.run_as):
            raise self.failed(context, ports.NOT_APPROVED, user)

    def succeeded(self, user: User, context: LoginContext) -> None:
        """Record the login. The user's row (lockout count reset, last login) is written when
        there is a count or lock to clear, and otherwise at most once a minute per process:
        LastLoginDate need not be exact to the second, and an UPDATE per grant made every
        client-credentials or JWT grant wait on the same user row (bench/README.md)."""
        if user.failed_logins or user.locked_until is not None:
            self._write_login(user)
        else:
            self._recent_logins.get(user.id, lambda: self._write_login(user))
        self.record(context, ports.SUCCESS, user)

    def _write_login(self, user: User) -> bool:
        self._users.record_login_success(user.id, int(self._clock()))
        return True

    def refreshed(self, user: User, context: LoginContext) -> None:
        """A refresh-token login: recorded like any OAuth login ("Remote Access 2.0",
        ``Success``). It proves no password, so it leaves the lockout count and the user's
        last login alone."""
        self.record(context, ports.SUCCESS, user)

    def failed(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> LoginFailed:
        """Record a refused attempt; returns the exception for the caller to raise."""
        self.record(context, status, user, username)
        return LoginFailed(status, user)

    def record(self, context: LoginContext, status: str, user: User | None = None,
               username: str | None = None) -> None:
        app = context.app
        self.history.record(LoginAttempt(
            login_time_ms=int(self._clock() * 1000), login_type=context.login_type,
            status=status, username=user.username if user else username,
            org_id=user.org_id if user else (app.org_id if app else None),
            user_id=user.id if user else None, source_ip=context.source_ip,
            application=app.name if app else None, app_id=app.id if app else None,
            login_url=context.login_url, api_type=context.api_type,
            api_version=context.api_version))
