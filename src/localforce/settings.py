"""Settings: ``LOCALFORCE_*`` environment variables over an optional ``localforce.toml``.

Every field's default is documented here; README.md lists them. A value comes from, first to
last: the caller (``Settings(port=…)``, the CLI's options), the environment (``LOCALFORCE_PORT``;
the name's case does not matter), ``localforce.toml`` in the working folder (``port = 8081``),
the default. From the environment a list is JSON (``["10.0.0.0/8"]``) and a flag is one of
``true/false``, ``1/0``, ``yes/no``, ``on/off``. A value that does not fit its field is refused
with a ``SettingsError`` naming where it came from.

A dataclass and the standard library: every server worker builds one at start, and
pydantic-settings' models, which did this before, were memory each worker carried for that
alone (bench/README.md, seventeenth pass).
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, get_type_hints

#: Where the file source is read from (the working folder, as before).
TOML_FILE = "localforce.toml"
ENV_PREFIX = "LOCALFORCE_"

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


class SettingsError(ValueError):
    """A setting's value does not fit its field; the message names the setting."""


def bounds(*, ge: float | None = None, gt: float | None = None,
           le: float | None = None) -> dict[str, float | None]:
    """A numeric field's limits (``field(metadata=bounds(...))``)."""
    return {"ge": ge, "gt": gt, "le": le}


@dataclass(init=False)
class Settings:
    #: Folder for the SQLite database, the master key file and TLS material.
    home: Path = Path(".localforce")
    #: SQLAlchemy URL; default SQLite in WAL mode under ``home``. ``postgresql://…`` for PostgreSQL.
    database_url: str | None = None
    #: Base64url master key (32 bytes). Absent: a 0600 key file ``home/master.key`` is used.
    secret_key: str | None = field(default=None, repr=False)
    #: The URL clients reach this server at; defaults to http://{host}:{port}.
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: Threads per worker for requests' blocking work (web/threads.py: more only add GIL
    #: contention; calls that verify a password have their own).
    request_threads: int = field(default=2, metadata=bounds(ge=1))
    #: Seed file loaded at start-up (idempotent).
    seed: Path | None = None
    #: Extra accepted JWT ``aud`` values, besides the public URL, login/test.salesforce.com and
    #: the My Domain URL.
    jwt_audiences: list[str] = field(default_factory=list)
    #: Redis URL for cross-replica state (revocation fan-out, counters); optional.
    redis_url: str | None = None
    #: The defaults of the org policies Setup edits per org (``Org settings``; an org that set
    #: its own uses those): failed logins before lockout (0 = no limit) and the lockout period
    #: in minutes (0 = until an admin unlocks), Salesforce's defaults;
    lockout_attempts: int = 10
    lockout_minutes: int = 15
    #: the session timeout in minutes (browser sessions, SOAP sessions, and the access tokens
    #: of apps that set no timeout of their own), Salesforce's default 2 hours;
    session_timeout_minutes: int = field(default=120, metadata=bounds(ge=1, le=1440))
    #: the rolling 24-hour API request allocation (Developer Edition's; 0 = no limit).
    daily_api_requests: int = 15000
    #: Lifetime of an authorization code, in seconds: RFC 6749 §4.1.2's 10 minutes at most.
    authorization_code_seconds: int = field(default=600, metadata=bounds(ge=10, le=600))
    #: Absolute maximum age of any refresh token, in days (0 = none).
    refresh_token_max_days: int = 365
    #: Peers whose X-Forwarded-For is believed (IPs or CIDRs).
    trusted_proxies: list[str] = field(default_factory=list)
    #: Serve /metrics on the public port.
    metrics_public: bool = False
    #: Logins per user per hour before ``rate_limit_exceeded`` (Salesforce's 3,600; 0 = off).
    login_rate_per_user_hour: int = 3600
    #: How old a fact a per-process read cache may serve (users, apps, orgs, token principals,
    #: custom-object declarations), in seconds: the bound on seeing another process's change
    #: while Redis fan-out is away (DESIGN.md: 1 s). Every read cache takes this one value.
    cache_seconds: float = field(default=1.0, metadata=bounds(ge=0))
    #: Requests per client IP per minute to credential-taking endpoints (token, SOAP login,
    #: login page); 0 = off. Benchmarks that hammer /token from one address turn it off.
    token_rate_per_ip_minute: int = 600
    #: A Bulk job runner renews its lease on a job with every transaction; a job whose lease
    #: ran out (its process stopped or was killed) is resumed by another runner.
    bulk_lease_seconds: float = field(default=60.0, metadata=bounds(gt=0))
    #: Apply that per-IP limit to direct loopback clients too. Off by default: local test
    #: suites and CI log in from 127.0.0.1 as often as they like (a request relayed by a
    #: local reverse proxy is still limited; so is every user, per hour).
    rate_limit_loopback: bool = False
    #: Scheduled maintenance in ``serve``: the purge below and signing-key rotation, run by one
    #: process of the deployment at a time (a PostgreSQL advisory lock; a file lock beside a
    #: SQLite database). Off: run ``localforce db purge`` and ``keys rotate`` yourself.
    maintenance: bool = True
    #: Seconds between maintenance runs; a process not holding the lock tries to take it as
    #: often, so a replica that died hands maintenance over within one interval.
    maintenance_interval_seconds: float = field(default=3600.0, metadata=bounds(gt=0))
    #: Dead tokens, codes, sessions and JWT ids are kept this long before the purge deletes
    #: them (a replayed code or refresh token is recognised only while its row exists).
    purge_retention_days: int = field(default=7, metadata=bounds(ge=0))
    #: Days a signing key signs before its successor takes over (0 = rotation by hand only).
    key_rotation_days: float = field(default=90.0, metadata=bounds(ge=0))
    #: Hours the successor is published at /id/keys before it starts signing.
    key_publish_ahead_hours: float = field(default=24.0, metadata=bounds(ge=0))
    #: Set only by the pytest plugin (``localforce.testing``): a server started for tests,
    #: whose clock, faults and reset are controlled with this key (web/testcontrol.py). Never
    #: set it on a real server; one worker only.
    test_control_key: str | None = None

    def __init__(self, **values: Any) -> None:
        """The settings from ``values``, then the environment, then ``localforce.toml``."""
        _refuse_unknown(values)
        given = {name: (name, value) for name, value in values.items()}
        self._assign({**_toml_values(), **_env_values(), **given})

    def _assign(self, sourced: Mapping[str, tuple[str, Any]]) -> None:
        """Every field from ``sourced`` (name -> (where it came from, value)) or its default."""
        hints = _hints()
        for spec in fields(Settings):
            if spec.name in sourced:
                where, raw = sourced[spec.name]
                value = _convert(raw, hints[spec.name], where)
                _check_bounds(value, spec.metadata, where)
            elif callable(spec.default_factory):
                value = spec.default_factory()
            else:
                value = spec.default
            setattr(self, spec.name, value)
        if self.key_rotation_days and \
                self.key_rotation_days * 24 <= self.key_publish_ahead_hours:
            raise SettingsError("key_rotation_days must be longer than key_publish_ahead_hours")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'localforce.db'}"

    @property
    def effective_public_url(self) -> str:
        url = self.public_url or f"http://{self.host}:{self.port}"
        return url.rstrip("/")

    def with_overrides(self, **values: Any) -> Settings:
        """These settings with the values given (``None``: left as they are), checked again."""
        _refuse_unknown(values)
        current = {spec.name: (spec.name, getattr(self, spec.name)) for spec in fields(Settings)}
        present = {k: (k, v) for k, v in values.items() if v is not None}
        copy = object.__new__(Settings)
        copy._assign({**current, **present})
        return copy


@cache
def _names() -> frozenset[str]:
    return frozenset(spec.name for spec in fields(Settings))


def _refuse_unknown(values: Mapping[str, Any]) -> None:
    """A name no field has is a mistake in the calling code."""
    unknown = set(values) - _names()
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")


@cache
def _hints() -> dict[str, Any]:
    return get_type_hints(Settings)


def _env_values() -> dict[str, tuple[str, Any]]:
    """``LOCALFORCE_<NAME>`` for each field, the variable's name in any case (an exact
    upper-case name first)."""
    found: dict[str, tuple[str, Any]] = {}
    names = _names()
    for key, value in sorted(os.environ.items(), key=lambda item: item[0] != item[0].upper()):
        upper = key.upper()
        if upper.startswith(ENV_PREFIX):
            name = upper.removeprefix(ENV_PREFIX).lower()
            if name in names and name not in found:
                found[name] = (key, value)
    return found


def _toml_values() -> dict[str, tuple[str, Any]]:
    path = Path(TOML_FILE)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{TOML_FILE} cannot be read: {exc}") from None
    names = _names()
    return {key: (f"{TOML_FILE}: {key}", value) for key, value in data.items() if key in names}


def _convert(raw: Any, kind: Any, where: str) -> Any:
    """``raw`` (text from the environment, or a Python or TOML value) as the field's type."""
    optional = getattr(kind, "__args__", None) and type(None) in kind.__args__
    if optional:
        if raw is None:
            return None
        kind = next(arg for arg in kind.__args__ if arg is not type(None))
    if kind is bool:
        return _flag(raw, where)
    if kind is int:
        return _whole(raw, where)
    if kind is float:
        return _number(raw, where)
    if kind is str:
        if not isinstance(raw, str):
            raise SettingsError(f"{where}: expected text")
        return raw
    if kind is Path:
        if not isinstance(raw, str | os.PathLike):
            raise SettingsError(f"{where}: expected a path")
        return Path(raw)
    return _text_list(raw, where)  # list[str], the only other kind


def _flag(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{where}: expected true or false, got {raw!r}")


def _whole(raw: Any, where: str) -> int:
    """An integer, from text too; a float only when it is whole (``8080.0``)."""
    try:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            try:
                return int(raw)  # exact, however large
            except ValueError:
                pass
        number = float(raw)
        if not number.is_integer():
            raise ValueError
        return int(number)
    except (ValueError, OverflowError):
        raise SettingsError(f"{where}: expected a whole number, got {raw!r}") from None


def _number(raw: Any, where: str) -> float:
    try:
        if isinstance(raw, bool):
            raise ValueError
        number = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except ValueError:
        raise SettingsError(f"{where}: expected a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise SettingsError(f"{where}: expected a finite number, got {raw!r}")
    return number


def _text_list(raw: Any, where: str) -> list[str]:
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SettingsError(f'{where}: expected a JSON list of strings, like ["a", "b"]')
    return value


def _check_bounds(value: Any, limits: Mapping[str, Any], where: str) -> None:
    if not limits:
        return
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    if limits.get("ge") is not None and value < limits["ge"]:
        raise SettingsError(f"{where}: must be at least {limits['ge']:g}, got {shown}")
    if limits.get("gt") is not None and value <= limits["gt"]:
        raise SettingsError(f"{where}: must be greater than {limits['gt']:g}, got {shown}")
    if limits.get("le") is not None and value > limits["le"]:
        raise SettingsError(f"{where}: must be at most {limits['le']:g}, got {shown}")
