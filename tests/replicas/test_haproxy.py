"""The deployment recipe, run (issue #15): three ``localforce serve`` replicas on PostgreSQL and
Redis behind HAProxy with ``deploy/haproxy.cfg``. The replicas reach PostgreSQL and Redis
through TCP relays this test stops and starts (tcpproxy.py): an outage of either without
touching the servers other tests use.

The tests share one cluster and run in order; the allocation test spends the org's allocation,
so it comes last.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from tests.conftest import PG_ADMIN_URL, REDIS_URL, missing_service
from tests.replicas.cluster import CONSUMER_KEY, CONSUMER_SECRET, Cluster
from tests.replicas.haproxy import HAProxy, haproxy_binary
from tests.replicas.tcpproxy import TcpProxy
from tests.replicas.test_fanout import BOUND, p99, refused_after

from localforce.testing.org import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.replicas]

LIMITS = "/services/data/v62.0/limits"
TOKEN = "/services/oauth2/token"
#: Small enough to spend in seconds, above the allocation's in-memory headroom (1,000), so
#: both ways of counting are crossed (limits/allocation.py).
ALLOCATION = 2500


@dataclass
class Deployment:
    cluster: Cluster
    haproxy: HAProxy
    database: TcpProxy
    redis: TcpProxy


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A database of this module's own: the session's (``pg_database``) may hold another
    module's org, and its API calls would count against the allocation tested here."""
    name = f"lf_test_replicas_{secrets.token_hex(4)}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "absent"
        missing_service(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.__class__.__name__}")
        return
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def deployment(own_database: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    pg_database = own_database
    binary = haproxy_binary()
    if binary is None:
        missing_service("HAProxy is not installed (scripts/test-setup.sh installs it)")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis at {REDIS_URL} is not reachable: {exc.__class__.__name__}")
    pg, rd = urlsplit(pg_database), urlsplit(REDIS_URL)
    database = TcpProxy((pg.hostname or "127.0.0.1", pg.port or 5432))
    redis_relay = TcpProxy((rd.hostname or "127.0.0.1", rd.port or 6379))
    database.start()
    redis_relay.start()
    folder = tmp_path_factory.mktemp("haproxy")
    front = free_port()
    cluster = Cluster(
        folder, pg_database.replace(f":{pg.port or 5432}/", f":{database.port}/"),
        REDIS_URL.replace(f":{rd.port or 6379}/", f":{redis_relay.port}/"),
        settings={  # the README's settings for replicas behind a load balancer
            "LOCALFORCE_PUBLIC_URL": f"http://127.0.0.1:{front}",
            "LOCALFORCE_TRUSTED_PROXIES": '["127.0.0.1"]',
            # One test client sends thousands of grants a minute from one address.
            "LOCALFORCE_TOKEN_RATE_PER_IP_MINUTE": "0",
            "LOCALFORCE_DAILY_API_REQUESTS": str(ALLOCATION)})
    haproxy = None
    try:
        cluster.start(3)
        haproxy = HAProxy.start(binary, folder, [r.port for r in cluster.replicas], front)
        yield Deployment(cluster, haproxy, database, redis_relay)
    finally:
        if haproxy is not None:
            haproxy.stop()
        cluster.stop()
        database.stop()
        redis_relay.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=15) as client:
        yield client


def grant(client: httpx.Client, base: str) -> httpx.Response:
    return client.post(f"{base}{TOKEN}", data={
        "grant_type": "client_credentials", "client_id": CONSUMER_KEY,
        "client_secret": CONSUMER_SECRET})


def token_of(client: httpx.Client, base: str) -> str:
    answer = grant(client, base)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_the_token_says_the_public_url_and_the_replicas_see_the_client(
        deployment: Deployment, http: httpx.Client) -> None:
    url = deployment.haproxy.url
    body = grant(http, url).json()
    assert body["instance_url"] == url
    # /metrics is for a scraper on the replica's host: relayed by HAProxy it does not exist.
    assert http.get(f"{url}/metrics").status_code == 404
    assert http.get(f"{url}/readyz").json() == {"status": "ready", "down": []}


def test_a_revocation_through_haproxy_is_refused_by_every_replica(
        deployment: Deployment, http: httpx.Client) -> None:
    """As tests/replicas/test_fanout.py, with the grant and the revocation through HAProxy."""
    url = deployment.haproxy.url
    urls = [r.url for r in deployment.cluster.replicas]
    delays: list[float] = []
    for _ in range(50):
        token = token_of(http, url)
        headers = {"Authorization": f"Bearer {token}"}
        assert all(http.get(f"{u}{LIMITS}", headers=headers).status_code == 200 for u in urls)
        assert http.post(f"{url}/services/oauth2/revoke", data={"token": token}).status_code \
            == 200
        delays += refused_after(http, urls, token, time.monotonic())
    assert p99(delays) <= BOUND, sorted(delays)[-5:]


def metric(http: httpx.Client, base: str, name: str) -> float:
    """The sum of ``name``'s series on one replica's /metrics (0 when it has none yet)."""
    return sum(float(line.split()[-1]) for line in http.get(f"{base}/metrics").text.splitlines()
               if line.startswith((name + " ", name + "{")))


def test_one_replica_runs_the_maintenance(deployment: Deployment, http: httpx.Client) -> None:
    urls = [r.url for r in deployment.cluster.replicas]
    held = [metric(http, u, "localforce_maintenance_lock_held") for u in urls]
    assert sorted(held) == [0.0, 0.0, 1.0], held
    ran = [metric(http, u, "localforce_maintenance_last_run_timestamp_seconds") for u in urls]
    assert [r > 0 for r in ran] == [h == 1.0 for h in held]  # only the holder ever ran


@dataclass
class Load:
    """Client threads sending ``request`` through HAProxy, each answer kept with its time."""

    request: Callable[[httpx.Client], httpx.Response]
    threads: int = 4
    #: Seconds each thread waits between requests.
    pause: float = 0.0
    answers: list[tuple[float, int, httpx.Response | None]] = field(default_factory=list)
    #: The transport errors (status 0 in ``answers``), for the assertion messages.
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Load:
        self._workers = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    def _run(self) -> None:
        with httpx.Client(trust_env=False, timeout=15) as client:
            while not self._stop.is_set():
                try:
                    response: httpx.Response | None = self.request(client)
                    status = response.status_code  # type: ignore[union-attr]
                except httpx.TransportError as exc:
                    response, status = None, 0
                    self.errors.append(f"{time.monotonic():.3f} {exc!r}")  # monotonic time
                self.answers.append((time.monotonic(), status, response))
                time.sleep(self.pause if status == 200 else max(self.pause, 0.05))


def test_a_database_restart_gives_clean_503s_and_service_resumes(
        deployment: Deployment, http: httpx.Client) -> None:
    """Grants and data-API calls through HAProxy while PostgreSQL is away for 4 s: 503s with
    Retry-After in each surface's shape (from the replicas, then from HAProxy once its checks
    of /readyz took them all out), never a 500; all 200s again within 5 s of its return."""
    url = deployment.haproxy.url
    headers = {"Authorization": f"Bearer {token_of(http, url)}"}
    grants = Load(lambda client: grant(client, url), threads=3)
    # Paced: every data-API call spends the allocation the last test needs.
    data = Load(lambda client: client.get(f"{url}{LIMITS}", headers=headers), threads=1,
                pause=0.1)
    with grants, data:
        time.sleep(1.0)
        deployment.database.stop()
        down_at = time.monotonic()
        time.sleep(4.0)
        deployment.database.start()
        up_at = time.monotonic()
        time.sleep(6.0)
    answers = grants.answers + data.answers
    # A token the replicas hold in their 1 s cache may still be served for that second.
    during = [s for t, s, _ in answers if down_at + 1.5 < t < up_at]
    assert during and set(during) == {503}, (down_at, up_at, grants.errors + data.errors)
    assert {s for _, s, _ in answers} == {200, 503}, (  # never a 500, a 502 or a reset
        down_at, up_at, grants.errors + data.errors)
    for _, _, response in answers:
        if response is not None and response.status_code == 503:
            assert response.headers["retry-after"] == "5"
            assert response.json() in (
                {"error": "temporarily_unavailable",
                 "error_description": "the service is temporarily unavailable"},
                [{"message": "Server temporarily unavailable, please retry later",
                  "errorCode": "SERVER_UNAVAILABLE"}])
    failing = [t for t, s, _ in answers if t > up_at and s != 200]
    recovered = (max(failing) if failing else up_at) - up_at
    assert recovered < 5.0, recovered  # full service within 5 s, no replica restarted
    assert [s for t, s, _ in data.answers if t > up_at + recovered].count(200) >= 5
    assert all(r.process.poll() is None for r in deployment.cluster.replicas)


def test_redis_away_leaves_the_service_on_its_fallbacks(
        deployment: Deployment, http: httpx.Client) -> None:
    url = deployment.haproxy.url
    deployment.redis.stop()
    try:
        time.sleep(0.5)
        assert http.get(f"{url}/readyz").json() == {"status": "ready", "down": ["redis"]}
        for _ in range(20):
            token = token_of(http, url)
            answer = http.get(f"{url}{LIMITS}", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
        failures = [metric(http, r.url, "localforce_redis_failures_total")
                    for r in deployment.cluster.replicas]
        assert sum(failures) > 0  # the warning metric says so
    finally:
        deployment.redis.start()
    deadline = time.monotonic() + 10
    while http.get(f"{url}/readyz").json()["down"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_kill_9_of_a_replica_loses_no_acknowledged_token(
        deployment: Deployment, http: httpx.Client) -> None:
    url, haproxy = deployment.haproxy.url, deployment.haproxy
    with Load(lambda client: grant(client, url), threads=6) as load:
        time.sleep(2.0)
        deployment.cluster.kill(1)
        killed_at = time.monotonic()
        haproxy.wait_until(lambda states: states.get("replica2") == "DOWN", timeout=10)
        time.sleep(2.0)
    after = [s for t, s, _ in load.answers if t > killed_at]
    assert after.count(200) > 20, after  # served by the other two meanwhile
    failed = [s for t, s, _ in load.answers if s != 200]
    assert len(failed) <= load.threads, failed  # at most the requests in flight at the kill
    tokens = [r.json()["access_token"] for _, s, r in load.answers if s == 200 and r]
    assert len(tokens) > 50
    for token in tokens:
        answer = http.post(f"{url}/services/oauth2/introspect", data={"token": token},
                           auth=(CONSUMER_KEY, CONSUMER_SECRET))
        assert answer.json()["active"] is True, token
    deployment.cluster.restart(1)
    haproxy.wait_until(lambda states: set(states.values()) == {"UP"}, timeout=10)


def test_the_allocation_is_one_budget_across_replicas(
        deployment: Deployment, http: httpx.Client) -> None:
    """Spent through all three replicas at once: exactly ``ALLOCATION`` calls succeed."""
    url = deployment.haproxy.url
    headers = {"Authorization": f"Bearer {token_of(http, url)}"}
    # What the earlier tests spent: a replica's call counts in the shared counters at once
    # when its tally is over a second old (having added what it had counted in memory).
    time.sleep(1.1)
    for replica in deployment.cluster.replicas:
        info = http.get(f"{replica.url}{LIMITS}", headers=headers).headers["sforce-limit-info"]
    used = int(info.split("=")[1].split("/")[0])
    assert used < ALLOCATION - 1000  # the in-memory counting is crossed too
    statuses: list[int] = []

    def spend() -> None:
        with httpx.Client(trust_env=False, timeout=15) as client:
            while True:
                status = client.get(f"{url}{LIMITS}", headers=headers).status_code
                statuses.append(status)
                if status != 200:
                    return

    workers = [threading.Thread(target=spend) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert statuses.count(200) == ALLOCATION - used
    assert set(statuses) == {200, 403}
    for replica in deployment.cluster.replicas:  # spent on every replica
        refused = http.get(f"{replica.url}{LIMITS}", headers=headers)
        assert refused.status_code == 403
        assert refused.json() == [{"message": "TotalRequests Limit exceeded.",
                                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        assert refused.headers["sforce-limit-info"] == f"api-usage={ALLOCATION}/{ALLOCATION}"
