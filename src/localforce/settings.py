"""Settings: ``LOCALFORCE_*`` environment variables over an optional ``localforce.toml``.

Every field's default is documented here; README.md lists them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LOCALFORCE_", toml_file="localforce.toml", extra="ignore"
    )

    #: Folder for the SQLite database, the master key file and TLS material.
    home: Path = Path(".localforce")
    #: SQLAlchemy URL; default SQLite in WAL mode under ``home``. ``postgresql://…`` for PostgreSQL.
    database_url: str | None = None
    #: Base64url master key (32 bytes). Absent: a 0600 key file ``home/master.key`` is used.
    secret_key: str | None = None
    #: The URL clients reach this server at; defaults to http://{host}:{port}.
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: Threads per worker for requests' blocking work (web/threads.py: more only add GIL
    #: contention; calls that verify a password have their own).
    request_threads: int = Field(default=2, ge=1)
    #: Seed file loaded at start-up (idempotent).
    seed: Path | None = None
    #: Extra accepted JWT ``aud`` values, besides the public URL, login/test.salesforce.com and
    #: the My Domain URL.
    jwt_audiences: list[str] = Field(default_factory=list)
    #: Redis URL for cross-replica state (revocation fan-out, counters); optional.
    redis_url: str | None = None
    #: The defaults of the org policies Setup edits per org (``Org settings``; an org that set
    #: its own uses those): failed logins before lockout (0 = no limit) and the lockout period
    #: in minutes (0 = until an admin unlocks), Salesforce's defaults;
    lockout_attempts: int = 10
    lockout_minutes: int = 15
    #: the session timeout in minutes (browser sessions, SOAP sessions, and the access tokens
    #: of apps that set no timeout of their own), Salesforce's default 2 hours;
    session_timeout_minutes: int = Field(default=120, ge=1, le=1440)
    #: the rolling 24-hour API request allocation (Developer Edition's; 0 = no limit).
    daily_api_requests: int = 15000
    #: Lifetime of an authorization code, in seconds: RFC 6749 §4.1.2's 10 minutes at most.
    authorization_code_seconds: int = Field(default=600, ge=10, le=600)
    #: Absolute maximum age of any refresh token, in days (0 = none).
    refresh_token_max_days: int = 365
    #: Peers whose X-Forwarded-For is believed (IPs or CIDRs).
    trusted_proxies: list[str] = Field(default_factory=list)
    #: Serve /metrics on the public port.
    metrics_public: bool = False
    #: Logins per user per hour before ``rate_limit_exceeded`` (Salesforce's 3,600; 0 = off).
    login_rate_per_user_hour: int = 3600
    #: How old a fact a per-process read cache may serve (users, apps, orgs, token principals,
    #: custom-object declarations), in seconds: the bound on seeing another process's change
    #: while Redis fan-out is away (DESIGN.md: 1 s). Every read cache takes this one value.
    cache_seconds: float = Field(default=1.0, ge=0)
    #: Requests per client IP per minute to credential-taking endpoints (token, SOAP login,
    #: login page); 0 = off. Benchmarks that hammer /token from one address turn it off.
    token_rate_per_ip_minute: int = 600
    #: A Bulk job runner renews its lease on a job with every transaction; a job whose lease
    #: ran out (its process stopped or was killed) is resumed by another runner.
    bulk_lease_seconds: float = Field(default=60.0, gt=0)
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
    maintenance_interval_seconds: float = Field(default=3600.0, gt=0)
    #: Dead tokens, codes, sessions and JWT ids are kept this long before the purge deletes
    #: them (a replayed code or refresh token is recognised only while its row exists).
    purge_retention_days: int = Field(default=7, ge=0)
    #: Days a signing key signs before its successor takes over (0 = rotation by hand only).
    key_rotation_days: float = Field(default=90.0, ge=0)
    #: Hours the successor is published at /id/keys before it starts signing.
    key_publish_ahead_hours: float = Field(default=24.0, ge=0)
    #: Set only by the pytest plugin (``localforce.testing``): a server started for tests,
    #: whose clock, faults and reset are controlled with this key (web/testcontrol.py). Never
    #: set it on a real server; one worker only.
    test_control_key: str | None = None

    @model_validator(mode="after")
    def _rotation_after_publication(self) -> Settings:
        if self.key_rotation_days and \
                self.key_rotation_days * 24 <= self.key_publish_ahead_hours:
            raise ValueError("key_rotation_days must be longer than key_publish_ahead_hours")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'localforce.db'}"

    @property
    def effective_public_url(self) -> str:
        url = self.public_url or f"http://{self.host}:{self.port}"
        return url.rstrip("/")

    def with_overrides(self, **values: Any) -> Settings:
        present = {k: v for k, v in values.items() if v is not None}
        return self.model_copy(update=present)
