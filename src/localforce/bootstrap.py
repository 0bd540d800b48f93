"""The composition root: settings -> engine, stores, services, clock.

Nothing is built at import time. ``build(settings)`` is called once per process (the CLI, each
server worker, each test); ``web.app.create_app(services)`` turns the result into the ASGI app.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from localforce import caching
from localforce.audit.metrics import MeteredLoginHistory, Metrics, multiprocess_dir_of
from localforce.audit.services import Audit
from localforce.audit.writer import BackgroundWriter
from localforce.data.api import DataApi
from localforce.data.assignments import AssignmentWrites
from localforce.data.bulk.classic import ClassicJobs
from localforce.data.bulk.ingest import IngestJobs
from localforce.data.bulk.query import QueryJobs
from localforce.data.bulk.runner import Runner
from localforce.directory.ports import DirectoryReads
from localforce.directory.service import Directory
from localforce.domain.models import OrgPolicies
from localforce.domain.principal import Principal
from localforce.limits.ports import Counters
from localforce.limits.services import Limits
from localforce.oauth.artifacts import GrantStore
from localforce.oauth.browser import BrowserFlows, build_browser
from localforce.oauth.client_assertion import ClientAssertions
from localforce.oauth.client_auth import ClientAuthenticator
from localforce.oauth.credentials import Logins, user_access
from localforce.oauth.dpop import DpopProofs
from localforce.oauth.endpoints.identity import Identity
from localforce.oauth.endpoints.introspection import Introspection
from localforce.oauth.endpoints.revocation import Revocation
from localforce.oauth.endpoints.soap_login import SoapLogin
from localforce.oauth.flows.authorization_code import AuthorizationCodeFlow
from localforce.oauth.flows.client_credentials import ClientCredentialsFlow
from localforce.oauth.flows.device_code import DeviceCodeFlow
from localforce.oauth.flows.jwt_bearer import JwtBearerFlow
from localforce.oauth.flows.password import PasswordFlow
from localforce.oauth.flows.refresh_token import RefreshTokenFlow
from localforce.oauth.flows.token_exchange import TokenExchangeFlow
from localforce.oauth.grants import GrantLogins
from localforce.oauth.housekeeping import Housekeeping
from localforce.oauth.issuing import Issuer
from localforce.oauth.keys import KeyRing
from localforce.oauth.maintenance import Maintenance, Observer, Schedule
from localforce.oauth.recent_tokens import RecentTokens
from localforce.oauth.server import AuthorizationServer, Flow
from localforce.oauth.services import OAuthServices
from localforce.oauth.sessions import Sessions
from localforce.security import passwords
from localforce.security.secretbox import SecretBox, decode_key, load_or_create_key_file
from localforce.settings import Settings
from localforce.storage.sql import audit_objects
from localforce.storage.sql.audit_store import SqlApiCallLog, SqlAuditQueries
from localforce.storage.sql.bulk_store import SqlBulkStore
from localforce.storage.sql.counter_store import SqlCounters
from localforce.storage.sql.directory_store import SqlDirectoryStore
from localforce.storage.sql.engine import make_engine, upgrade
from localforce.storage.sql.grant_store import SqlGrantStore
from localforce.storage.sql.group_commit import GroupCommit
from localforce.storage.sql.maintenance_lock import maintenance_lock
from localforce.storage.sql.oauth_store import (
    SqlConsentStore,
    SqlLoginHistory,
    SqlReplayStore,
    SqlSigningKeyStore,
    SqlTokenStore,
)
from localforce.storage.sql.record_store import SqlRecordStore

Clock = Callable[[], float]


@dataclass
class Bulk:
    """Bulk API jobs (data/bulk/): the job resources and the background runner ``serve``
    starts in each worker."""

    ingest: IngestJobs
    query: QueryJobs
    classic: ClassicJobs
    runner: Runner


@dataclass
class Services:
    settings: Settings
    engine: Engine
    box: SecretBox
    directory: Directory
    clock: Clock
    oauth: OAuthServices
    limits: Limits
    audit: Audit
    browser: BrowserFlows
    data: DataApi
    housekeeping: Housekeeping
    #: The group-commit writer of tokens and LoginHistory (storage/sql/group_commit.py).
    writes: GroupCommit
    bulk: Bulk
    #: Scheduled purge and key rotation (oauth/maintenance.py), started by ``serve``'s workers.
    maintenance: Maintenance
    #: The cross-process cache invalidation (storage/redis/fanout.py), when Redis is configured.
    fanout: Any = None

    @property
    def directory_reads(self) -> DirectoryReads:
        """What Setup, the browser pages and the CLI read of the directory (reads only: they
        change it through ``directory``, by its rules)."""
        return self.directory.store

    @property
    def reads_never_wait(self) -> bool:
        """SQLite (WAL): a read never waits for a writer, so hot calls that only read may run
        on the event loop (commits.py, "calls made on the event loop"). On PostgreSQL every
        read is a network round trip: they stay on threads, except the grants whose reads the
        caches answer (web/hotpath.py ``CACHED_GRANTS``)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def data_reads_on_loop(self) -> bool:
        """The data API's bounded reads are tried on the event loop (web/routes/data.py
        ``INLINE_READS``): on SQLite as ``reads_never_wait``; on PostgreSQL (psycopg) the
        reads such a call waits for are run apart, together with other calls' in one round
        trip, and the call is tried again with their answers (web/threads.py ``on_loop``)."""
        return self.reads_never_wait or self.engine.dialect.driver == "psycopg"

    def close(self) -> None:
        self.maintenance.stop()
        if self.fanout is not None:
            self.fanout.stop()
            caching.broadcast_with(None)
        self.bulk.runner.stop()
        self.limits.flush()  # API requests and logins counted in memory since the last flush
        self.audit.close()
        self.writes.close()
        self.engine.dispose()


def master_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return decode_key(settings.secret_key)
    return load_or_create_key_file(settings.home / "master.key")


def build(settings: Settings, clock: Clock = time.time, migrate: bool = True) -> Services:
    passwords.share_cores(settings.workers)
    caching.set_freshness(settings.cache_seconds)  # before any cache is built
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    box = SecretBox(master_key(settings))
    directory = Directory(SqlDirectoryStore(engine), box, clock,
                          defaults=server_policies(settings))
    audit = build_audit(engine)
    limits = build_limits(settings, engine, clock, audit.metrics,
                          api_limit_of=directory.api_allocation)
    writes = GroupCommit(engine)
    oauth = build_oauth(settings, engine, box, directory, clock, limits=limits,
                        metrics=audit.metrics, writes=writes)
    grants = SqlGrantStore(engine)
    browser = build_browser(oauth, grants, settings.authorization_code_seconds)
    for handler in token_handlers(oauth, grants, browser):
        oauth.server.register(handler)
    records = SqlRecordStore(engine)
    data = DataApi(records, clock, AssignmentWrites(directory, directory.store))
    bulk = build_bulk(settings, SqlBulkStore(engine, records), data, directory, clock)
    housekeeping = Housekeeping(
        {"tokens": oauth.tokens, "grants": grants, "jwt_ids": oauth.replay}, clock)
    return Services(settings, engine, box, directory, clock, oauth=oauth, limits=limits,
                    audit=audit, browser=browser,
                    data=data, housekeeping=housekeeping, writes=writes, bulk=bulk,
                    maintenance=build_maintenance(settings, engine, housekeeping, oauth.keys,
                                                  clock, audit.metrics),
                    fanout=build_fanout(settings, audit.metrics))


def build_maintenance(settings: Settings, engine: Engine, housekeeping: Housekeeping,
                      keys: KeyRing, clock: Clock, metrics: Metrics) -> Maintenance:
    """The purge and key rotation on ``settings``' schedule, under the deployment-wide lock;
    runs are counted in ``/metrics``. Started only by ``serve`` (``settings.maintenance``)."""
    schedule = Schedule(interval=settings.maintenance_interval_seconds,
                        retention_days=settings.purge_retention_days,
                        rotate_every=round(settings.key_rotation_days * 86400),
                        publish_ahead=round(settings.key_publish_ahead_hours * 3600))
    observer = Observer(ran=metrics.maintenance_ran,
                        lock=lambda held: metrics.maintenance_lock.set(1 if held else 0),
                        failed=metrics.maintenance_failures.inc)
    return Maintenance(housekeeping, keys, maintenance_lock(engine), schedule, clock, observer)


def server_policies(settings: Settings) -> OrgPolicies:
    """The org policies of an org that has set none: the server's settings."""
    return OrgPolicies(lockout_attempts=settings.lockout_attempts,
                       lockout_minutes=settings.lockout_minutes,
                       session_timeout_minutes=settings.session_timeout_minutes,
                       daily_api_requests=settings.daily_api_requests)


def build_fanout(settings: Settings, metrics: Metrics) -> Any:
    """Cache invalidation across workers and replicas on Redis pub/sub (``caching.announce``);
    without Redis each process's caches keep their TTL bound alone."""
    if not settings.redis_url:
        return None
    from localforce.storage.redis.fanout import RedisFanOut

    fanout = RedisFanOut.from_url(
        settings.redis_url, caching.apply,
        on_failure=lambda: metrics.redis_failures.labels("invalidation").inc(),
        on_message=lambda direction: metrics.invalidations.labels(direction).inc())
    caching.broadcast_with(fanout.publish)
    fanout.start()
    return fanout


def build_bulk(settings: Settings, store: SqlBulkStore, data: DataApi, directory: Directory,
               clock: Clock) -> Bulk:
    def principal_of(org_id: str, user_id: str) -> Principal | None:
        """Who a job runs as: its creator as they are now (inactive: nobody)."""
        user = directory.store.get_user(user_id)
        if user is None or not user.active or user.org_id != org_id:
            return None
        return Principal(org_id, user_id, user.username, None, None, ("api",),
                         user_access(directory.store, user), "")

    runner = Runner(store, data.records, principal_of, clock,
                    lease_seconds=settings.bulk_lease_seconds, queries=data.queries)
    return Bulk(IngestJobs(store, data.records, clock, wake=runner.wake),
                QueryJobs(store, data.queries, clock, wake=runner.wake),
                ClassicJobs(store, data.records, clock, wake=runner.wake), runner)


def build_limits(settings: Settings, engine: Engine, clock: Clock, metrics: Metrics,
                 api_limit_of: Callable[[str], int] | None = None) -> Limits:
    """Counters shared by every worker and replica: Redis when configured (the database's
    while Redis is away), else the database."""
    counters: Counters
    if settings.redis_url:
        # Imported here: the redis client slows every process's start-up otherwise
        # (bench/README.md, start-up).
        from localforce.storage.redis.counters import FallbackCounters, RedisCounters

        counters = FallbackCounters(
            RedisCounters.from_url(settings.redis_url), SqlCounters(engine),
            on_failure=lambda: metrics.redis_failures.labels("counters").inc())
    else:
        counters = SqlCounters(engine)
    return Limits.of(counters, clock, daily_api_requests=settings.daily_api_requests,
                     per_user_hour=settings.login_rate_per_user_hour,
                     per_ip_minute=settings.token_rate_per_ip_minute,
                     on_reject=lambda limit: metrics.limit_rejections.labels(limit).inc(),
                     api_limit_of=api_limit_of)


def build_audit(engine: Engine) -> Audit:
    audit_objects.register()  # LoginHistory and SetupAuditTrail in the data API
    calls = SqlApiCallLog(engine)
    return Audit(calls, BackgroundWriter(calls), SqlAuditQueries(engine),
                 Metrics(multiprocess_dir=multiprocess_dir_of()))


def build_oauth(settings: Settings, engine: Engine, box: SecretBox, directory: Directory,
                clock: Clock, *, writes: GroupCommit, limits: Limits | None = None,
                metrics: Metrics | None = None) -> OAuthServices:
    """The OAuth stores and helpers; the token endpoint's registry is filled by ``build``
    from ``token_handlers``."""
    base_url = settings.effective_public_url
    tokens, history = SqlTokenStore(engine, writes), SqlLoginHistory(engine, writes)
    if metrics is not None:
        history = MeteredLoginHistory(history, metrics)  # type: ignore[assignment]
    keys = KeyRing(SqlSigningKeyStore(engine), box, clock)
    store, access_of = directory.store, functools.partial(user_access, directory.store)
    issuer = Issuer(tokens, keys, directory.reveal_secret, base_url, clock,
                    refresh_max_days=settings.refresh_token_max_days,
                    session_seconds=directory.session_seconds)
    logins = Logins(store, directory, access_of, history, clock,
                    rate=limits.logins if limits else None)
    replay = SqlReplayStore(engine)
    clients = ClientAuthenticator(store, directory.check_secret,
                                  ClientAssertions(replay, base_url, clock))
    sessions = Sessions(tokens, store, store, access_of, clock)
    proofs = DpopProofs(replay, box.derive("dpop-nonce"), base_url, clock)
    oauth = OAuthServices(
        directory=directory, clock=clock, base_url=base_url, tokens=tokens,
        consents=SqlConsentStore(engine), replay=replay, history=history,
        keys=keys, issuer=issuer, logins=logins, clients=clients, sessions=sessions,
        server=AuthorizationServer([], proofs), proofs=proofs,
        jwt_audiences=jwt_audiences(settings),
        introspection=Introspection(clients, RecentTokens(tokens), store, issuer.identity_url,
                                    clock),
        revocation=Revocation(clients, tokens, sessions.forget, clock),
        identity=Identity(sessions, store, store, issuer.identity_url, base_url),
        soap_login=SoapLogin(logins, store, issuer, tokens, sessions.forget, base_url, clock))
    return oauth


def token_handlers(oauth: OAuthServices, grants: GrantStore,
                   browser: BrowserFlows) -> tuple[Flow, ...]:
    """Every handler of POST /services/oauth2/token, in one place: the grants by
    ``grant_type`` and Salesforce's device-code request by ``response_type``. Each flow is
    given what it uses (oauth/flows/needs.py), the directory's store for its lookups."""
    clients, issuer, clock = oauth.clients, oauth.issuer, oauth.clock
    store, logins = oauth.directory.store, GrantLogins(oauth.logins)
    return (PasswordFlow(clients, store, store, logins, issuer),
            ClientCredentialsFlow(clients, store, logins, issuer),
            JwtBearerFlow(clients, store, store, oauth.consents, oauth.replay, logins, issuer,
                          clock, oauth.jwt_audiences),
            RefreshTokenFlow(clients, oauth.tokens, store, logins, issuer, clock),
            AuthorizationCodeFlow(clients, grants, store, store, oauth.tokens, issuer, clock),
            DeviceCodeFlow(clients, grants, store, store, issuer, clock),
            TokenExchangeFlow(clients, oauth.tokens, store, logins, issuer, clock),
            browser.device_authorization)


def jwt_audiences(settings: Settings) -> frozenset[str]:
    """The public URL, login/test.salesforce.com and ``jwt_audiences``; the JWT flow adds the
    app's org's My Domain URL."""
    public = settings.effective_public_url
    found = {public, "https://login.salesforce.com",
             "https://test.salesforce.com", *settings.jwt_audiences,
             # simple-salesforce's aud for domain="{host:port}/login" (or "/test"): the
             # /{label}.salesforce.com path alias in web.middleware (clients.md §1, mechanism A).
             f"{public}/login.salesforce.com", f"{public}/test.salesforce.com"}
    return frozenset(a.rstrip("/") for a in found)
