"""DirectoryStore on SQL: orgs, profiles, permission sets, users, connected apps.

Every grant and introspection reads its app (by consumer key), the app's sealed secret, its org,
the user by id and the user's profile and permission sets; those reads go through a per-process
cache at most 1 s old (DESIGN.md: a change on any replica — a deactivated user too — takes
effect within 1 s), emptied by every write made through this store, so a change made here is
seen at once.
``find_user`` (by username) reads fresh unless asked otherwise: password logins count failures
toward lockout, so theirs must be exact; JWT bearer grants read through the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from localforce import caching
from localforce.caching import TtlCache
from localforce.directory.audit import SetupChange
from localforce.directory.ports import Conflict
from localforce.domain import ids
from localforce.domain.models import (
    Assignment,
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
from localforce.storage.sql import tables as t
from localforce.storage.sql.engine import reader, single_statement_reader

# Every grant reads its user: prebuilt statements (DESIGN.md, hot paths), not built per call.
_USER_BY_ID = select(t.users).where(t.users.c.id == bindparam("v"))
_USER_BY_NAME = select(t.users).where(t.users.c.username_key == bindparam("v"))
_USER_PERMISSION_SETS = (select(t.user_permission_sets.c.permission_set_id)
                         .where(t.user_permission_sets.c.user_id == bindparam("v"))
                         .order_by(t.user_permission_sets.c.permission_set_id))


def _now() -> int:
    return int(time.time())


class SqlDirectoryStore:
    def __init__(self, engine: Engine, connection: Connection | None = None,
                 cache: TtlCache[Any] | None = None) -> None:
        self._engine = engine
        self._read = reader(engine)
        self._read_one = single_statement_reader(engine)
        self._bound = connection
        self._cache: TtlCache[Any] = cache if cache is not None else TtlCache()

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[SqlDirectoryStore]:
        if self._bound is not None:
            yield self
            return
        try:
            with self._engine.begin() as connection:
                yield SqlDirectoryStore(self._engine, connection, self._cache)
        finally:
            self._cache.clear()  # what the transaction wrote is committed (or not) now
            caching.changed()  # principals here and every cache in the other processes

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        """A connection to write on; the cache is emptied before and after the write."""
        self._cache.clear()
        try:
            if self._bound is not None:
                yield self._bound
            else:
                with self._engine.begin() as connection:
                    yield connection
        finally:
            self._cache.clear()
            if self._bound is None:
                caching.changed()

    @contextmanager
    def _reading(self, one_statement: bool = False) -> Iterator[Connection]:
        """The transaction's connection, or a read-only one (no write lock on SQLite); for
        ``one_statement``, one that opens no transaction (``single_statement_reader``)."""
        if self._bound is not None:
            yield self._bound
        else:
            with (self._read_one if one_statement else self._read).connect() as connection:
                yield connection

    def _one(self, statement: Any) -> Mapping[Any, Any] | None:
        with self._reading(one_statement=True) as c:
            row = c.execute(statement).mappings().first()
        return row

    def _cached(self, key: tuple[str, ...], load: Callable[[], Any]) -> Any:
        """``load()`` through the cache, except inside a transaction (which may have written
        what it reads)."""
        return load() if self._bound is not None else self._cache.get(key, load)

    def _all(self, statement: Any) -> list[Mapping[Any, Any]]:
        with self._reading(one_statement=True) as c:
            return list(c.execute(statement).mappings())

    def _upsert(self, table: Table, key: str, values: dict[str, Any]) -> None:
        now = _now()
        with self._conn() as c:
            try:
                with c.begin_nested():
                    found = c.execute(
                        update(table).where(table.c[key] == values[key])
                        .values(**values, modified_at=now)
                    ).rowcount
                    if not found:
                        c.execute(insert(table).values(**values, created_at=now, modified_at=now))
            except IntegrityError as exc:
                raise Conflict(str(exc.orig)) from exc

    # -- orgs -----------------------------------------------------------------------------

    def get_org(self, org_id: str) -> Org | None:
        return self._cached(("org", org_id), lambda: self._load_org(org_id))

    def _load_org(self, org_id: str) -> Org | None:
        row = self._one(select(t.orgs).where(t.orgs.c.id == org_id))
        return _org(row) if row else None

    def list_orgs(self) -> list[Org]:
        return [_org(r) for r in self._all(select(t.orgs).order_by(t.orgs.c.created_at))]

    def save_org(self, org: Org) -> None:
        self._upsert(t.orgs, "id", {
            "id": org.id, "name": org.name, "my_domain": org.my_domain,
            "username_password_flow": org.username_password_flow,
            "sharing": dict(org.sharing.defaults), "policies": _policies_json(org.policies),
        })

    # -- profiles and permission sets -----------------------------------------------------

    def get_profile(self, profile_id: str) -> Profile | None:
        return self._cached(("profile", profile_id), lambda: self._load_profile(profile_id))

    def _load_profile(self, profile_id: str) -> Profile | None:
        row = self._one(select(t.profiles).where(t.profiles.c.id == profile_id))
        return _profile(row) if row else None

    def find_profile(self, org_id: str, name: str) -> Profile | None:
        row = self._one(select(t.profiles).where(
            t.profiles.c.org_id == org_id, func.lower(t.profiles.c.name) == name.lower()))
        return _profile(row) if row else None

    def list_profiles(self, org_id: str) -> list[Profile]:
        rows = self._all(select(t.profiles).where(t.profiles.c.org_id == org_id)
                         .order_by(t.profiles.c.name))
        return [_profile(r) for r in rows]

    def save_profile(self, profile: Profile) -> None:
        self._upsert(t.profiles, "id", {
            "id": profile.id, "org_id": profile.org_id, "name": profile.name,
            "standard": profile.standard, "api_enabled": profile.api_enabled,
            "view_all_data": profile.view_all_data, "modify_all_data": profile.modify_all_data,
            "manage_users": profile.manage_users, "objects": _objects_json(profile.objects),
            "login_ip_ranges": [[r.start, r.end] for r in profile.login_ip_ranges],
            "transfer_record": profile.transfer_record,
            "bulk_api_hard_delete": profile.bulk_api_hard_delete,
        })

    def get_permission_set(self, permission_set_id: str) -> PermissionSet | None:
        return self._cached(("permission_set", permission_set_id),
                            lambda: self._load_permission_set(permission_set_id))

    def _load_permission_set(self, permission_set_id: str) -> PermissionSet | None:
        row = self._one(select(t.permission_sets)
                        .where(t.permission_sets.c.id == permission_set_id))
        return _permission_set(row) if row else None

    def find_permission_set(self, org_id: str, name: str) -> PermissionSet | None:
        row = self._one(select(t.permission_sets).where(
            t.permission_sets.c.org_id == org_id,
            func.lower(t.permission_sets.c.name) == name.lower()))
        return _permission_set(row) if row else None

    def list_permission_sets(self, org_id: str) -> list[PermissionSet]:
        rows = self._all(select(t.permission_sets).where(t.permission_sets.c.org_id == org_id)
                         .order_by(t.permission_sets.c.name))
        return [_permission_set(r) for r in rows]

    def save_permission_set(self, permission_set: PermissionSet) -> None:
        ps = permission_set
        self._upsert(t.permission_sets, "id", {
            "id": ps.id, "org_id": ps.org_id, "name": ps.name, "label": ps.label or ps.name,
            "api_enabled": ps.api_enabled,
            "view_all_data": ps.view_all_data, "modify_all_data": ps.modify_all_data,
            "manage_users": ps.manage_users, "objects": _objects_json(ps.objects),
            "transfer_record": ps.transfer_record,
            "bulk_api_hard_delete": ps.bulk_api_hard_delete,
        })

    # -- users ----------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return self._cached(("user", user_id), lambda: self._user_where(_USER_BY_ID, user_id))

    def find_user(self, username: str, *, fresh: bool = True) -> User | None:
        key = username.lower()
        if fresh:
            return self._user_where(_USER_BY_NAME, key)
        return self._cached(("username", key), lambda: self._user_where(_USER_BY_NAME, key))

    def _user_where(self, statement: Any, value: str) -> User | None:
        with self._reading() as c:
            row = c.execute(statement, {"v": value}).mappings().first()
            if row is None:
                return None
            ps_ids = c.execute(_USER_PERMISSION_SETS, {"v": row["id"]}).scalars().all()
        return _user(row, tuple(ps_ids))

    def list_users(self, org_id: str) -> list[User]:
        with self._reading() as c:
            rows = c.execute(select(t.users).where(t.users.c.org_id == org_id)
                             .order_by(t.users.c.username_key)).mappings().all()
            links = c.execute(
                select(t.user_permission_sets).join(t.users)
                .where(t.users.c.org_id == org_id)
            ).mappings().all()
        by_user: dict[str, list[str]] = {}
        for link in links:
            by_user.setdefault(link["user_id"], []).append(link["permission_set_id"])
        return [_user(r, tuple(sorted(by_user.get(r["id"], [])))) for r in rows]

    def save_user(self, user: User) -> None:
        self._upsert(t.users, "id", {
            "id": user.id, "org_id": user.org_id, "username": user.username,
            "username_key": user.username.lower(), "email": user.email,
            "first_name": user.first_name, "last_name": user.last_name,
            "profile_id": user.profile_id, "active": user.active,
            "time_zone": user.time_zone, "locale": user.locale, "language": user.language,
        })
        links = t.user_permission_sets
        with self._conn() as c:  # only the changed links: each kept one keeps its Id
            held = set(c.execute(_USER_PERMISSION_SETS, {"v": user.id}).scalars())
            wanted = set(user.permission_set_ids)
            if held - wanted:
                c.execute(delete(links).where(links.c.user_id == user.id,
                                              links.c.permission_set_id.in_(held - wanted)))
            for ps_id in sorted(wanted - held):
                c.execute(insert(links).values(
                    id=ids.new_id(ids.KEY_PREFIXES["PermissionSetAssignment"]),
                    org_id=user.org_id, user_id=user.id, permission_set_id=ps_id,
                    created_at=_now()))

    def get_assignment(self, assignment_id: str) -> Assignment | None:
        links = t.user_permission_sets
        row = self._one(select(links).where(links.c.id == assignment_id))
        return _assignment(row) if row else None

    def find_assignment(self, user_id: str, permission_set_id: str) -> Assignment | None:
        links = t.user_permission_sets
        row = self._one(select(links).where(links.c.user_id == user_id,
                                            links.c.permission_set_id == permission_set_id))
        return _assignment(row) if row else None

    def get_credentials(self, user_id: str) -> tuple[str | None, str | None]:
        row = self._one(select(t.users.c.password_hash, t.users.c.security_token_sealed)
                        .where(t.users.c.id == user_id))
        return (row["password_hash"], row["security_token_sealed"]) if row else (None, None)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._set_user(user_id, password_hash=password_hash)

    def set_security_token(self, user_id: str, sealed: str) -> None:
        self._set_user(user_id, security_token_sealed=sealed)

    def record_login_failure(self, user_id: str, locked_until: int | None) -> int:
        with self._conn() as c:
            values: dict[str, Any] = {"failed_logins": t.users.c.failed_logins + 1}
            if locked_until is not None:
                values["locked_until"] = locked_until
            c.execute(update(t.users).where(t.users.c.id == user_id).values(**values))
            count = c.execute(select(t.users.c.failed_logins)
                              .where(t.users.c.id == user_id)).scalar_one()
        return int(count)

    def record_login_success(self, user_id: str, now: int) -> None:
        """LastLoginDate, and the failure count and lock cleared. When there was nothing to
        clear (most logins) only ``last_login_at`` and ``modified_at`` change, which no cache
        holds (``User`` has neither): the caches here and in the other processes are kept.
        Emptying them for it, once a minute per user and process, made every process read
        its orgs, users, apps and sessions again."""
        users = t.users.c
        quiet = (update(t.users).where(users.id == user_id, users.failed_logins == 0,
                                       users.locked_until.is_(None))
                 .values(last_login_at=now, modified_at=_now()))
        if self._bound is not None:
            done = self._bound.execute(quiet)
        else:
            with self._engine.begin() as connection:
                done = connection.execute(quiet)
        if done.rowcount == 0:  # a count or a lock to clear (or no such user): as any write
            self._set_user(user_id, failed_logins=0, locked_until=None, last_login_at=now)

    def unlock_user(self, user_id: str) -> None:
        self._set_user(user_id, failed_logins=0, locked_until=None)

    def _set_user(self, user_id: str, **values: Any) -> None:
        with self._conn() as c:
            c.execute(update(t.users).where(t.users.c.id == user_id)
                      .values(**values, modified_at=_now()))

    # -- connected apps -------------------------------------------------------------------

    def get_app(self, app_id: str) -> ConnectedApp | None:
        row = self._one(select(t.apps).where(t.apps.c.id == app_id))
        return _app(row) if row else None

    def find_app_by_key(self, consumer_key: str, org_id: str | None = None
                        ) -> ConnectedApp | None:
        return self._cached(("app_by_key", consumer_key, org_id or ""),
                            lambda: self._load_app_by_key(consumer_key, org_id))

    def _load_app_by_key(self, consumer_key: str, org_id: str | None) -> ConnectedApp | None:
        query = select(t.apps).where(t.apps.c.consumer_key == consumer_key)
        if org_id is not None:
            query = query.where(t.apps.c.org_id == org_id)
        row = self._one(query.order_by(t.apps.c.created_at, t.apps.c.id).limit(1))
        return _app(row) if row else None

    def find_app(self, org_id: str, name: str) -> ConnectedApp | None:
        row = self._one(select(t.apps).where(
            t.apps.c.org_id == org_id, func.lower(t.apps.c.name) == name.lower()))
        return _app(row) if row else None

    def list_apps(self, org_id: str) -> list[ConnectedApp]:
        rows = self._all(select(t.apps).where(t.apps.c.org_id == org_id).order_by(t.apps.c.name))
        return [_app(r) for r in rows]

    def save_app(self, app: ConnectedApp) -> None:
        self._upsert(t.apps, "id", {
            "id": app.id, "org_id": app.org_id, "name": app.name,
            "consumer_key": app.consumer_key, "callback_urls": list(app.callback_urls),
            "scopes": list(app.scopes), "certificate": app.certificate,
            "require_pkce": app.require_pkce,
            "require_secret_web_server": app.require_secret_web_server,
            "require_secret_refresh": app.require_secret_refresh,
            "enable_implicit": app.enable_implicit,
            "enable_device_flow": app.enable_device_flow,
            "enable_client_credentials": app.enable_client_credentials,
            "run_as_user_id": app.run_as_user_id,
            "permitted_users": app.permitted_users.value,
            "authorized_profile_ids": list(app.authorized_profile_ids),
            "authorized_permission_set_ids": list(app.authorized_permission_set_ids),
            "ip_relaxation": app.ip_relaxation.value,
            "session_timeout_minutes": app.session_timeout_minutes or 0,
            "refresh_token_policy": app.refresh_token_policy.render(),
            "rotate_refresh_tokens": app.rotate_refresh_tokens,
            "require_par": app.require_par,
            "require_dpop": app.require_dpop,
            "require_private_key_jwt": app.require_private_key_jwt,
            "allow_token_exchange": app.allow_token_exchange,
            "jwt_access_tokens": app.jwt_access_tokens,
            "builtin": app.builtin,
        })

    def get_app_secret(self, app_id: str) -> str | None:
        return self._cached(("app_secret", app_id), lambda: self._load_app_secret(app_id))

    def _load_app_secret(self, app_id: str) -> str | None:
        row = self._one(select(t.apps.c.consumer_secret_sealed).where(t.apps.c.id == app_id))
        return row["consumer_secret_sealed"] if row else None

    def set_app_secret(self, app_id: str, sealed: str | None) -> None:
        with self._conn() as c:
            c.execute(update(t.apps).where(t.apps.c.id == app_id)
                      .values(consumer_secret_sealed=sealed, modified_at=_now()))


    # -- setup audit trail ----------------------------------------------------------------

    def record_setup_change(self, change: SetupChange) -> None:
        with self._conn() as c:
            c.execute(insert(t.setup_audit_trail).values(
                id=change.id, org_id=change.org_id, action=change.action, section=change.section,
                display=change.display, created_date=change.created_date_ms,
                created_by_id=change.created_by_id, created_by_context=change.created_by_context,
                delegate_user=change.delegate_user))

    def list_setup_changes(self, org_id: str, since_ms: int | None = None,
                           limit: int = 1000) -> list[SetupChange]:
        table = t.setup_audit_trail
        query = select(table).where(table.c.org_id == org_id)
        if since_ms is not None:
            query = query.where(table.c.created_date >= since_ms)
        rows = self._all(query.order_by(table.c.created_date.desc(), table.c.id.desc())
                         .limit(limit))
        return [SetupChange(r["id"], r["org_id"], r["action"], r["section"], r["display"],
                            r["created_date"], r["created_by_id"], r["created_by_context"],
                            r["delegate_user"]) for r in rows]


# -- row -> domain ------------------------------------------------------------------------

def _objects_json(objects: ObjectPermissions) -> dict[str, list[str]]:
    return {name: sorted(perms) for name, perms in sorted(objects.grants.items())}


def _objects(value: dict[str, list[str]]) -> ObjectPermissions:
    return ObjectPermissions({k: frozenset(v) for k, v in value.items()})


def _org(row: Mapping[Any, Any]) -> Org:
    return Org(id=row["id"], name=row["name"], my_domain=row["my_domain"],
               username_password_flow=bool(row["username_password_flow"]),
               sharing=Sharing(dict(row["sharing"] or {})),
               policies=_policies(row["policies"] or {}))


_POLICY_NUMBERS = ("lockout_attempts", "lockout_minutes", "session_timeout_minutes",
                   "daily_api_requests")


def _policies(value: Mapping[Any, Any]) -> OrgPolicies:
    return OrgPolicies(**{k: value.get(k) for k in _POLICY_NUMBERS}, trusted_ip_ranges=tuple(
        IpRange(a, b) for a, b in value.get("trusted_ip_ranges", ())))


def _policies_json(policies: OrgPolicies) -> dict[str, Any]:
    """Only what the org set: an absent key follows the server's setting."""
    out: dict[str, Any] = {k: getattr(policies, k) for k in _POLICY_NUMBERS
                           if getattr(policies, k) is not None}
    if policies.trusted_ip_ranges:
        out["trusted_ip_ranges"] = [[r.start, r.end] for r in policies.trusted_ip_ranges]
    return out


def _profile(row: Mapping[Any, Any]) -> Profile:
    return Profile(
        id=row["id"], org_id=row["org_id"], name=row["name"], standard=bool(row["standard"]),
        api_enabled=bool(row["api_enabled"]), view_all_data=bool(row["view_all_data"]),
        modify_all_data=bool(row["modify_all_data"]), manage_users=bool(row["manage_users"]),
        objects=_objects(row["objects"]),
        login_ip_ranges=tuple(IpRange(a, b) for a, b in row["login_ip_ranges"]),
        transfer_record=bool(row["transfer_record"]),
        bulk_api_hard_delete=bool(row["bulk_api_hard_delete"]),
    )


def _assignment(row: Mapping[Any, Any]) -> Assignment:
    return Assignment(row["id"], row["org_id"], row["user_id"], row["permission_set_id"])


def _permission_set(row: Mapping[Any, Any]) -> PermissionSet:
    return PermissionSet(
        id=row["id"], org_id=row["org_id"], name=row["name"],
        # A label equal to the API name is the default one: read back as "" (as made).
        label=row["label"] if row["label"] not in (None, row["name"]) else "",
        api_enabled=bool(row["api_enabled"]),
        view_all_data=bool(row["view_all_data"]), modify_all_data=bool(row["modify_all_data"]),
        manage_users=bool(row["manage_users"]), objects=_objects(row["objects"]),
        transfer_record=bool(row["transfer_record"]),
        bulk_api_hard_delete=bool(row["bulk_api_hard_delete"]),
    )


def _user(row: Mapping[Any, Any], permission_set_ids: tuple[str, ...]) -> User:
    from datetime import UTC, datetime

    locked = row["locked_until"]
    return User(
        id=row["id"], org_id=row["org_id"], username=row["username"], email=row["email"],
        first_name=row["first_name"], last_name=row["last_name"], profile_id=row["profile_id"],
        active=bool(row["active"]), permission_set_ids=permission_set_ids,
        failed_logins=row["failed_logins"],
        locked_until=datetime.fromtimestamp(locked, UTC) if locked else None,
        time_zone=row["time_zone"], locale=row["locale"], language=row["language"],
    )


def _app(row: Mapping[Any, Any]) -> ConnectedApp:
    return ConnectedApp(
        id=row["id"], org_id=row["org_id"], name=row["name"], consumer_key=row["consumer_key"],
        callback_urls=tuple(row["callback_urls"]), scopes=tuple(row["scopes"]),
        certificate=row["certificate"], has_secret=row["consumer_secret_sealed"] is not None,
        require_pkce=bool(row["require_pkce"]),
        require_secret_web_server=bool(row["require_secret_web_server"]),
        require_secret_refresh=bool(row["require_secret_refresh"]),
        enable_implicit=bool(row["enable_implicit"]),
        enable_device_flow=bool(row["enable_device_flow"]),
        enable_client_credentials=bool(row["enable_client_credentials"]),
        run_as_user_id=row["run_as_user_id"],
        permitted_users=PermittedUsers(row["permitted_users"]),
        authorized_profile_ids=tuple(row["authorized_profile_ids"]),
        authorized_permission_set_ids=tuple(row["authorized_permission_set_ids"]),
        ip_relaxation=IpRelaxation(row["ip_relaxation"]),
        session_timeout_minutes=row["session_timeout_minutes"] or None,
        refresh_token_policy=RefreshTokenPolicy.parse(row["refresh_token_policy"]),
        rotate_refresh_tokens=bool(row["rotate_refresh_tokens"]), builtin=bool(row["builtin"]),
        require_par=bool(row.get("require_par", False)),
        require_dpop=bool(row.get("require_dpop", False)),
        require_private_key_jwt=bool(row.get("require_private_key_jwt", False)),
        allow_token_exchange=bool(row.get("allow_token_exchange", False)),
        jwt_access_tokens=bool(row.get("jwt_access_tokens", False)),
    )
