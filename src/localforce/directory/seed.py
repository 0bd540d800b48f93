"""The declarative seed file (TOML): org, profiles, permission sets, users, apps, records.

Loading is idempotent: entries are matched by natural key (profile, permission set and app by
name, user by username, org by id or name), unchanged entries are left alone and changed
values are updated. The whole file is validated before anything is written, and everything
is written in one transaction, so a bad file changes nothing.

The schema is documented in README.md ("Seed file"); ``examples/seed.toml`` is an example.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from localforce.directory.audit import Actor
from localforce.directory.seed_model import RecordSeeder, SeedError, SeedReport
from localforce.directory.seed_writer import SeedWriter
from localforce.directory.service import (
    Directory,
    DirectoryError,
    check_callback_url,
    check_certificate,
    check_policies,
)
from localforce.domain import ids
from localforce.domain.models import (
    OBJECT_PERMISSIONS,
    SHARING_LEVELS,
    ConnectedApp,
    IpRange,
    IpRelaxation,
    ObjectPermissions,
    Org,
    OrgPolicies,
    PermissionSet,
    PermittedUsers,
    Profile,
    RefreshTokenPolicy,
    Sharing,
    User,
)

__all__ = ["RecordSeeder", "SeedError", "SeedReport", "apply_seed", "load_file", "user_summary"]

_POLICY_KEYS = {"lockout_attempts", "lockout_minutes", "session_timeout_minutes",
                "daily_api_requests", "trusted_ip_ranges"}
_ORG_KEYS = {"name", "id", "my_domain", "username_password_flow", "sharing", *_POLICY_KEYS}
_PROFILE_KEYS = {"name", "api_enabled", "objects", "login_ip_ranges", "view_all_data",
                 "modify_all_data", "manage_users", "transfer_record", "bulk_api_hard_delete"}
_PS_KEYS = {"name", "api_enabled", "objects", "view_all_data", "modify_all_data", "manage_users",
            "transfer_record", "bulk_api_hard_delete"}
_USER_KEYS = {"username", "password", "security_token", "profile", "permission_sets", "email",
              "first_name", "last_name", "active"}
_APP_KEYS = {"name", "consumer_key", "consumer_secret", "callback_urls", "scopes", "certificate",
             "require_pkce", "require_secret_web_server", "require_secret_refresh",
             "enable_implicit", "enable_device_flow", "enable_client_credentials", "run_as",
             "permitted_users", "authorized_profiles", "authorized_permission_sets",
             "ip_relaxation", "session_timeout_minutes", "refresh_token_policy",
             "rotate_refresh_tokens", "require_par", "require_dpop",
             "require_private_key_jwt", "allow_token_exchange", "jwt_access_tokens"}
_TOP_KEYS = {"org", "profiles", "permission_sets", "users", "apps", "records", "objects"}


class _Reader:
    """Typed access to one entry's fields, raising SeedError that names them."""

    def __init__(self, source: str, entry: str, data: Any, allowed: set[str]) -> None:
        self.source, self.entry = source, entry
        if not isinstance(data, dict):
            raise SeedError(source, entry, None, "must be a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise SeedError(source, entry, unknown[0], "unknown field")
        self.data = data

    def fail(self, name: str | None, message: str) -> SeedError:
        return SeedError(self.source, self.entry, name, message)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None,
            required: bool = False) -> Any:
        if name not in self.data:
            if required:
                raise self.fail(name, "is required")
            return default
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            kinds = (kind,) if isinstance(kind, type) else kind
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(name, f"must be {names}, not {type(value).__name__}")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        values = self.get(name, list, [])
        if not all(isinstance(v, str) for v in values):
            raise self.fail(name, "must be a list of strings")
        return tuple(values)


def load_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise SeedError(str(path), "file", None, "not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(str(path), "file", None, f"invalid TOML: {exc}") from exc


def apply_seed(directory: Directory, data: dict[str, Any], source: str = "seed",
               base_dir: Path | None = None, records: RecordSeeder | None = None) -> SeedReport:
    """Validate the whole seed, then write it in one transaction."""
    directory = directory.as_actor(Actor(directory.actor.user_id, "Seed file"))
    plan = _Planner(directory, source, base_dir or Path("."), records).plan(data)
    return plan()


class _Planner:
    def __init__(self, directory: Directory, source: str, base_dir: Path,
                 records: RecordSeeder | None) -> None:
        self.directory, self.source, self.base_dir, self.records = (
            directory, source, base_dir, records)
        self.store = directory.store

    def plan(self, data: dict[str, Any]) -> Callable[[], SeedReport]:
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise SeedError(self.source, unknown[0], None, "unknown section")
        org_in = _Reader(self.source, "org", data.get("org"), _ORG_KEYS)
        org = self._org(org_in)
        policies = self._policies(org_in)
        existing = self.store.get_org(org.id)
        profiles = [self._profile(org, i, e) for i, e in enumerate(self._list(data, "profiles"))]
        perm_sets = [self._permission_set(org, i, e)
                     for i, e in enumerate(self._list(data, "permission_sets"))]
        standard = {p.name.lower() for p in self.store.list_profiles(org.id)} if existing else {
            "system administrator", "standard user", "read only",
            "minimum access - api only integrations"}
        profile_names = standard | {p.name.lower() for p in profiles}
        stored_ps = self.store.list_permission_sets(org.id) if existing else []
        ps_names = {p.name.lower() for p in [*perm_sets, *stored_ps]}
        users = [self._user(i, e, profile_names, ps_names)
                 for i, e in enumerate(self._list(data, "users"))]
        usernames = {u["username"].lower() for u in users}
        apps = [self._app(i, e, profile_names, ps_names, usernames, org)
                for i, e in enumerate(self._list(data, "apps"))]
        record_entries = self._records(data.get("records", {}))
        objects = self._objects_section(data)
        self._unique(profiles, "profiles", "name", lambda p: p.name.lower())
        self._unique(perm_sets, "permission_sets", "name", lambda p: p.name.lower())
        self._unique(users, "users", "username", lambda u: u["username"].lower())
        self._unique(apps, "apps", "name", lambda a: a["app"].name.lower())

        def run() -> SeedReport:
            report = SeedReport(org)
            with self.store.transaction() as store:
                directory = replace(self.directory, store=store)
                writer = SeedWriter(self.source)
                writer.org(directory, org, existing, report, policies)
                for profile in profiles:
                    writer.named(directory, store.find_profile, store.save_profile, org,
                                 profile, "profile", report)
                for ps in perm_sets:
                    writer.named(directory, store.find_permission_set,
                                 store.save_permission_set, org, ps, "permission set", report)
                for user in users:
                    writer.user(directory, org, user, report)
                for app in apps:
                    writer.app(directory, org, app, report)
            if objects and self.records is not None:
                report.created.extend(self.records.declare_objects(org.id, objects))
            self._write_records(org, record_entries, report)
            return report

        return run

    # -- validation -----------------------------------------------------------------------

    def _list(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise SeedError(self.source, key, None, f"must be an array of tables ([[{key}]])")
        return value

    def _unique(self, items: list[Any], section: str, key: str, get: Callable[[Any], str]) -> None:
        seen: set[str] = set()
        for index, item in enumerate(items):
            value = get(item)
            if value in seen:
                raise SeedError(self.source, f"{section}[{index}]", key, f"duplicate {value!r}")
            seen.add(value)

    def _org(self, r: _Reader) -> Org:
        name = r.get("name", str, required=True)
        org_id = r.get("id", str)
        if org_id is not None:
            if not ids.is_valid(org_id) or not org_id.startswith("00D"):
                raise r.fail("id", f"{org_id!r} is not a 15- or 18-character org ID (00D…)")
            org_id = ids.to18(org_id)
        else:
            match = next((o for o in self.store.list_orgs() if o.name == name), None)
            org_id = match.id if match else ids.new_id("00D")
        sharing = r.get("sharing", dict, {})
        for sobject, level in sharing.items():
            if level not in SHARING_LEVELS:
                raise r.fail("sharing", f"{sobject}: {level!r} is not one of "
                             f"{', '.join(SHARING_LEVELS)}")
        return Org(org_id, name, r.get("my_domain", str),
                   r.get("username_password_flow", bool, False), Sharing(sharing))

    def _policies(self, r: _Reader) -> dict[str, Any]:
        """The org policies the seed sets (those it leaves out keep theirs), checked by the
        rules Setup and the CLI use."""
        changes: dict[str, Any] = {k: r.get(k, int) for k in _POLICY_KEYS - {"trusted_ip_ranges"}
                                   if k in r.data}
        if "trusted_ip_ranges" in r.data:
            ranges = []
            for pair in r.get("trusted_ip_ranges", list):
                try:
                    ranges.append(IpRange(*pair))
                except (TypeError, ValueError) as exc:
                    raise r.fail("trusted_ip_ranges", f"bad range {pair!r}: {exc}") from exc
            changes["trusted_ip_ranges"] = tuple(ranges)
        try:
            check_policies(OrgPolicies(**changes))
        except DirectoryError as exc:
            raise r.fail(exc.field, str(exc).partition(": ")[2] or str(exc)) from None
        return changes

    def _objects(self, r: _Reader) -> ObjectPermissions:
        value = r.get("objects", dict, {})
        grants = {}
        for sobject, perms in value.items():
            if not isinstance(perms, list) or not all(p in OBJECT_PERMISSIONS for p in perms):
                raise r.fail("objects", f"{sobject}: permissions must be a list of "
                             f"{', '.join(OBJECT_PERMISSIONS)}")
            grants[sobject] = frozenset(perms)
        return ObjectPermissions(grants)

    def _profile(self, org: Org, index: int, data: Any) -> Profile:
        r = _Reader(self.source, f"profiles[{index}]", data, _PROFILE_KEYS)
        ranges = []
        for pair in r.get("login_ip_ranges", list, []):
            try:
                ranges.append(IpRange(*pair))
            except (TypeError, ValueError) as exc:
                raise r.fail("login_ip_ranges", f"bad range {pair!r}: {exc}") from exc
        return Profile(
            "", org.id, r.get("name", str, required=True), standard=False,
            api_enabled=r.get("api_enabled", bool, True),
            view_all_data=r.get("view_all_data", bool, False),
            modify_all_data=r.get("modify_all_data", bool, False),
            manage_users=r.get("manage_users", bool, False),
            objects=self._objects(r), login_ip_ranges=tuple(ranges),
            transfer_record=r.get("transfer_record", bool, False),
            bulk_api_hard_delete=r.get("bulk_api_hard_delete", bool, False))

    def _permission_set(self, org: Org, index: int, data: Any) -> PermissionSet:
        r = _Reader(self.source, f"permission_sets[{index}]", data, _PS_KEYS)
        return PermissionSet(
            "", org.id, r.get("name", str, required=True),
            api_enabled=r.get("api_enabled", bool, False),
            view_all_data=r.get("view_all_data", bool, False),
            modify_all_data=r.get("modify_all_data", bool, False),
            manage_users=r.get("manage_users", bool, False), objects=self._objects(r),
            transfer_record=r.get("transfer_record", bool, False),
            bulk_api_hard_delete=r.get("bulk_api_hard_delete", bool, False))

    def _user(self, index: int, data: Any, profiles: set[str], perm_sets: set[str]
              ) -> dict[str, Any]:
        r = _Reader(self.source, f"users[{index}]", data, _USER_KEYS)
        username = r.get("username", str, required=True)
        if "@" not in username:
            raise r.fail("username", f"{username!r} must look like an email address")
        profile = r.get("profile", str, required=True)
        if profile.lower() not in profiles:
            raise r.fail("profile", f"no profile named {profile!r}")
        for ps in r.strings("permission_sets"):
            if ps.lower() not in perm_sets:
                raise r.fail("permission_sets", f"no permission set named {ps!r}")
        return {
            "username": username, "password": r.get("password", str),
            "security_token": r.get("security_token", str), "profile": profile,
            "permission_sets": r.strings("permission_sets"),
            "email": r.get("email", str, username), "first_name": r.get("first_name", str),
            "last_name": r.get("last_name", str, username.split("@")[0]),
            "active": r.get("active", bool, True),
        }

    def _app(self, index: int, data: Any, profiles: set[str], perm_sets: set[str],
             usernames: set[str], org: Org) -> dict[str, Any]:
        r = _Reader(self.source, f"apps[{index}]", data, _APP_KEYS)
        for url in r.strings("callback_urls"):
            try:
                check_callback_url(url)
            except DirectoryError as exc:
                raise r.fail("callback_urls", str(exc)) from exc
        run_as = r.get("run_as", str)
        if r.get("enable_client_credentials", bool, False) and not run_as:
            raise r.fail("run_as", "is required when enable_client_credentials is true")
        if run_as and run_as.lower() not in usernames and self.store.find_user(run_as) is None:
            raise r.fail("run_as", f"no user {run_as!r}")
        for name in r.strings("authorized_profiles"):
            if name.lower() not in profiles:
                raise r.fail("authorized_profiles", f"no profile named {name!r}")
        for name in r.strings("authorized_permission_sets"):
            if name.lower() not in perm_sets:
                raise r.fail("authorized_permission_sets", f"no permission set named {name!r}")
        try:
            permitted = PermittedUsers(r.get("permitted_users", str, "all"))
        except ValueError as exc:
            raise r.fail("permitted_users", "must be 'all' or 'admin_approved'") from exc
        try:
            relaxation = IpRelaxation(r.get("ip_relaxation", str, "enforce"))
        except ValueError as exc:
            raise r.fail("ip_relaxation",
                         "must be 'enforce', 'enforce_relax_refresh' or 'relax'") from exc
        try:
            policy = RefreshTokenPolicy.parse(
                r.get("refresh_token_policy", str, "valid_until_revoked"))
        except ValueError as exc:
            raise r.fail("refresh_token_policy", str(exc)) from exc
        timeout = r.get("session_timeout_minutes", int)  # None: the org's
        if timeout is not None and not 1 <= timeout <= 24 * 60:
            raise r.fail("session_timeout_minutes", "must be between 1 and 1440")
        key = r.get("consumer_key", str)
        if key is not None and not key.replace(".", "").replace("_", "").replace("-", "").isalnum():
            raise r.fail("consumer_key", "may only contain letters, digits, '.', '_' and '-'")
        app = ConnectedApp(
            id="", org_id=org.id, name=r.get("name", str, required=True), consumer_key=key or "",
            callback_urls=r.strings("callback_urls"), scopes=r.strings("scopes"),
            certificate=self._certificate(r),
            require_pkce=r.get("require_pkce", bool, False),
            require_secret_web_server=r.get("require_secret_web_server", bool, True),
            require_secret_refresh=r.get("require_secret_refresh", bool, True),
            enable_implicit=r.get("enable_implicit", bool, False),
            enable_device_flow=r.get("enable_device_flow", bool, False),
            enable_client_credentials=r.get("enable_client_credentials", bool, False),
            permitted_users=permitted, ip_relaxation=relaxation,
            session_timeout_minutes=timeout, refresh_token_policy=policy,
            rotate_refresh_tokens=r.get("rotate_refresh_tokens", bool, False),
            require_par=r.get("require_par", bool, False),
            require_dpop=r.get("require_dpop", bool, False),
            require_private_key_jwt=r.get("require_private_key_jwt", bool, False),
            allow_token_exchange=r.get("allow_token_exchange", bool, False),
            jwt_access_tokens=r.get("jwt_access_tokens", bool, False))
        return {"app": app, "secret": r.get("consumer_secret", str), "run_as": run_as,
                "profiles": r.strings("authorized_profiles"),
                "permission_sets": r.strings("authorized_permission_sets")}

    def _certificate(self, r: _Reader) -> str | None:
        value: str | None = r.get("certificate", str)
        if value is None:
            return None
        pem = value
        if "-----BEGIN" not in value:
            path = (self.base_dir / value)
            try:
                pem = path.read_text()
            except OSError as exc:
                raise r.fail("certificate", f"cannot read {str(path)!r}: {exc.strerror}") from exc
        try:
            check_certificate(pem)
        except DirectoryError as exc:
            raise r.fail("certificate", "is not a PEM X.509 certificate") from exc
        return pem.strip() + "\n"

    def _objects_section(self, data: dict[str, Any]) -> list[Any]:
        """``[[objects]]``: custom objects and fields, checked by the data API's seeder."""
        objects = self._list(data, "objects")
        if objects and self.records is not None:
            problem = self.records.validate_objects(objects)
            if problem:
                raise SeedError(self.source, "objects", None, problem)
        return objects

    def _records(self, data: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(data, dict):
            raise SeedError(self.source, "records", None, "must be a table of [[records.X]]")
        out = []
        for sobject, entries in data.items():
            if not isinstance(entries, list):
                raise SeedError(self.source, f"records.{sobject}", None,
                                "must be an array of tables")
            for index, values in enumerate(entries):
                entry = f"records.{sobject}[{index}]"
                if not isinstance(values, dict):
                    raise SeedError(self.source, entry, None, "must be a table")
                if self.records is not None:
                    problem = self.records.validate_seed_record(sobject, values)
                    if problem:
                        raise SeedError(self.source, entry, None, problem)
                out.append((sobject, values))
        return out

    # -- writing -----------------------------------------------------------------------

    def _write_records(self, org: Org, entries: list[tuple[str, dict[str, Any]]],
                       report: SeedReport) -> None:
        if not entries or self.records is None:
            return
        owner = next((u for u in self.store.list_users(org.id) if u.active), None)
        if owner is None:
            raise SeedError(self.source, "records", None, "records need at least one active user")
        for sobject, values in entries:
            if self.records.seed_record(org.id, owner.id, sobject, values):
                report.created.append(f"{sobject} {values.get('Name', '')}".strip())


def user_summary(user: User) -> dict[str, Any]:  # used by the CLI's --json output
    return {"id": user.id, "username": user.username, "email": user.email, "name": user.name,
            "active": user.active, "profile_id": user.profile_id}
