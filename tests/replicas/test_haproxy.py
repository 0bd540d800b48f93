"""The deployment recipe, run (issue #15): three ``localforce serve`` replicas on PostgreSQL and
Redis behind HAProxy with ``deploy/haproxy.cfg``. The outage of PostgreSQL is this machine's
server stopped and started for real (postgres.py: only where the suite has the machine to
itself); Redis is reached through a TCP relay this test stops and starts (tcpproxy.py).

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
from tests.replicas.cluster import ADMIN, CONSUMER_KEY, CONSUMER_SECRET, Cluster
from tests.replicas.haproxy import HAProxy, haproxy_binary
from tests.replicas.postgres import PgCluster, local_cluster, restart_allowed
from tests.replicas.tcpproxy import TcpProxy
from tests.replicas.test_fanout import BOUND, TRIALS, p99, refused_after, status

from localforce.testing.org import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.replicas]

LIMITS = "/services/data/v62.0/limits"
TOKEN = "/services/oauth2/token"
ACCOUNTS = "/services/data/v62.0/sobjects/Account"
#: Small enough to spend in seconds, above what the tests before the last spend plus the
#: allocation's in-memory headroom (1,000), so both ways of counting are crossed
#: (limits/allocation.py).
ALLOCATION = 4000
#: Deactivate-and-activate rounds through ``localforce users deactivate`` (a process each).
DEACTIVATIONS = 5
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@dataclass
class Deployment:
    cluster: Cluster
    haproxy: HAProxy
    redis: TcpProxy


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A database of this module's own: the session's (``pg_database``) may hold another
    module's org, and its API calls would count against the allocation tested here."""
    name = f"lf_test_replicas_{secrets.token_hex(4)}"
    try:
        # pool_pre_ping: the pooled connection does not outlive the PostgreSQL restart.
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
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
    rd = urlsplit(REDIS_URL)
    redis_relay = TcpProxy((rd.hostname or "127.0.0.1", rd.port or 6379))
    redis_relay.start()
    folder = tmp_path_factory.mktemp("haproxy")
    front = free_port()
    cluster = Cluster(
        folder, pg_database, REDIS_URL.replace(f":{rd.port or 6379}/", f":{redis_relay.port}/"),
        settings={  # the README's settings for replicas behind a load balancer
            "LOCALFORCE_PUBLIC_URL": f"http://127.0.0.1:{front}",
            "LOCALFORCE_TRUSTED_PROXIES": '["127.0.0.1"]',
            # One test client sends thousands of grants a minute from one address, as one
            # user (more than Salesforce's 3,600 logins an hour in this module).
            "LOCALFORCE_TOKEN_RATE_PER_IP_MINUTE": "0",
            "LOCALFORCE_LOGIN_RATE_PER_USER_HOUR": "0",
            "LOCALFORCE_DAILY_API_REQUESTS": str(ALLOCATION),
            # Replicas try for the maintenance lock this often: after the PostgreSQL restart
            # (which ends the holder's session, and the lock with it) one takes it again.
            "LOCALFORCE_MAINTENANCE_INTERVAL_SECONDS": "2"})
    haproxy = None
    try:
        cluster.start(3)
        haproxy = HAProxy.start(binary, folder, [r.port for r in cluster.replicas], front)
        yield Deployment(cluster, haproxy, redis_relay)
    finally:
        if haproxy is not None:
            haproxy.stop()
        cluster.stop()
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
    """As tests/replicas/test_fanout.py (p99 over as many trials), with the grant and the
    revocation through HAProxy, the refusal asked of each replica and of HAProxy."""
    url = deployment.haproxy.url
    urls = [r.url for r in deployment.cluster.replicas]
    delays: list[float] = []
    for _ in range(TRIALS):
        token = token_of(http, url)
        assert all(status(http, u, token) == 200 for u in urls)  # cached everywhere now
        assert http.post(f"{url}/services/oauth2/revoke", data={"token": token}).status_code \
            == 200
        delays += refused_after(http, [*urls, url], token, time.monotonic())
    assert p99(delays) <= BOUND, sorted(delays)[-10:]


def test_a_deactivated_user_is_refused_through_haproxy_and_by_every_replica(
        deployment: Deployment, http: httpx.Client) -> None:
    """Deactivated by ``localforce users deactivate`` (another process on the same database
    and Redis) while each replica holds the user's token in its cache: refused within the
    bound through HAProxy and by each replica, then every request through HAProxy (round
    robin: each replica twice) and a new grant for the app that runs as the user; activated
    again, the same token works everywhere."""
    url = deployment.haproxy.url
    urls = [r.url for r in deployment.cluster.replicas]
    delays: list[float] = []
    for _ in range(DEACTIVATIONS):
        token = token_of(http, url)
        headers = {"Authorization": f"Bearer {token}"}
        assert all(status(http, u, token) == 200 for u in urls)
        try:
            deployment.cluster.cli("users", "deactivate", ADMIN)
            delays += refused_after(http, [url, *urls], token, time.monotonic())
            refusals = [http.get(f"{url}{LIMITS}", headers=headers) for _ in range(6)]
            assert [(r.status_code, r.json()) for r in refusals] == [(401, INVALID_SESSION)] * 6
            refused_grant = grant(http, url)
            assert (refused_grant.status_code, refused_grant.json()) == (
                400, {"error": "inactive_user", "error_description": "user is inactive"})
        finally:
            deployment.cluster.cli("users", "activate", ADMIN)
        assert all(status(http, u, token) == 200 for u in [*urls, url, url, url])
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


def restartable_postgres() -> PgCluster:
    if not restart_allowed():
        pytest.skip("restarts this machine's PostgreSQL, which other test runs may be using: "
                    "runs under CI, or with LOCALFORCE_TEST_PG_RESTART=1")
    address = urlsplit(PG_ADMIN_URL)
    cluster = local_cluster(address.hostname or "", address.port or 5432)
    if cluster is None:
        missing_service(f"PostgreSQL at {address.hostname}:{address.port or 5432} is not a "
                        "cluster of this machine that pg_ctlcluster runs")
    assert cluster is not None
    return cluster


def test_a_postgresql_restart_gives_clean_503s_and_loses_nothing_acknowledged(
        deployment: Deployment, http: httpx.Client) -> None:
    """Grants and record inserts through HAProxy while this machine's PostgreSQL is stopped
    (fast shutdown: every session cut) for 4 s and started again: 503s with Retry-After in
    each surface's shape (from the replicas, then from HAProxy once its checks of /readyz took
    them all out), never a 500; full service within 5 s of its return, no replica restarted,
    one of them holding the maintenance lock again; every token granted is active and every
    record created is there."""
    postgres = restartable_postgres()
    url = deployment.haproxy.url
    headers = {"Authorization": f"Bearer {token_of(http, url)}"}
    marker = f"Outage {secrets.token_hex(4)}"
    grants = Load(lambda client: grant(client, url), threads=3)
    # Paced: every data-API call spends the allocation the last test needs.
    inserts = Load(lambda client: client.post(f"{url}{ACCOUNTS}", headers=headers,
                                              json={"Name": marker}), threads=1, pause=0.1)
    with grants, inserts:
        time.sleep(1.0)
        with postgres.outage():
            down_at = time.monotonic()
            time.sleep(4.0)
            starting_at = time.monotonic()
        up_at = time.monotonic()  # pg_ctlcluster start returned: it accepts connections
        time.sleep(6.0)
    answers = grants.answers + inserts.answers
    errors = grants.errors + inserts.errors
    # A token the replicas hold in their 1 s cache may still be served for that second.
    during = [s for t, s, _ in answers if down_at + 1.5 < t < starting_at]
    assert during and set(during) == {503}, (down_at, starting_at, errors)
    # Never a 500, a 502, a reset, or a refusal that blames the client.
    odd = [(t - down_at, s, r.text if r else None) for t, s, r in answers
           if s not in (200, 201, 503)]
    assert {s for _, s, _ in grants.answers} == {200, 503}, (odd, errors)
    assert {s for _, s, _ in inserts.answers} == {201, 503}, (odd, errors)
    for _, _, response in answers:
        if response is not None and response.status_code == 503:
            assert response.headers["retry-after"] == "5"
            assert response.json() in (
                {"error": "temporarily_unavailable",
                 "error_description": "the service is temporarily unavailable"},
                [{"message": "Server temporarily unavailable, please retry later",
                  "errorCode": "SERVER_UNAVAILABLE"}])
    failing = [t for t, s, _ in answers if t > up_at and s not in (200, 201)]
    recovered = (max(failing) if failing else up_at) - up_at
    # full service within 5 s, no replica restarted (t: when the answer came, from up_at)
    assert recovered < 5.0, (recovered, [(round(t - up_at, 2), s) for t, s, _ in answers
                                         if t > up_at and s not in (200, 201)], errors)
    assert [s for t, s, _ in inserts.answers if t > up_at + recovered].count(201) >= 5
    assert all(r.process.poll() is None for r in deployment.cluster.replicas)

    # Nothing acknowledged was lost: before, during or after the outage.
    tokens = [r.json()["access_token"] for _, s, r in grants.answers if s == 200 and r]
    assert len(tokens) > 20
    for token in tokens:
        answer = http.post(f"{url}/services/oauth2/introspect", data={"token": token},
                           auth=(CONSUMER_KEY, CONSUMER_SECRET))
        assert answer.json()["active"] is True, token
    created = {r.json()["id"] for _, s, r in inserts.answers if s == 201 and r}
    found = http.get(f"{url}/services/data/v62.0/query", headers=headers,
                     params={"q": f"SELECT Id FROM Account WHERE Name = '{marker}'"}).json()
    assert found["done"] is True
    assert created <= {record["Id"] for record in found["records"]}

    # The holder's session ended with the restart, and its lock with it: one replica has it
    # again (each tries every 2 s).
    urls = [r.url for r in deployment.cluster.replicas]
    deadline = time.monotonic() + 10
    while sorted(metric(http, u, "localforce_maintenance_lock_held") for u in urls) \
            != [0.0, 0.0, 1.0]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


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
        slept_at = time.monotonic()
        time.sleep(2.0)
        deployment.cluster.kill(1)
        killed_at = time.monotonic()
        # how late this process was for the kill: a CI run of 223a37b stalled ~19 s here (no
        # request of the load, the Redis relay of this process silent, the kill that late)
        late = round(killed_at - slept_at - 2.0, 2)
        haproxy.wait_until(lambda states: states.get("replica2") == "DOWN", timeout=10)
        time.sleep(2.0)
    try:
        after = [s for t, s, _ in load.answers if t > killed_at]
        assert after.count(200) > 20, after  # served by the other two meanwhile
        # at most the requests in flight at the kill; each failure with when (seconds after
        # the kill) and its body (that run: 19 of HAProxy's 503s, every replica marked down)
        failed = [(round(t - killed_at, 2), s, r.text[:160] if r is not None else None)
                  for t, s, r in load.answers if s != 200]
        assert len(failed) <= load.threads, (late, failed, load.errors)
        tokens = [r.json()["access_token"] for _, s, r in load.answers if s == 200 and r]
        assert len(tokens) > 50
        for token in tokens:
            answer = http.post(f"{url}/services/oauth2/introspect", data={"token": token},
                               auth=(CONSUMER_KEY, CONSUMER_SECRET))
            # the answer itself when it is not an active token: a CI run of d7da90f under the
            # whole suite's load once got an answer without "active" (an error), not seen since
            assert answer.status_code == 200 and answer.json().get("active") is True, (
                token, answer.status_code, answer.text)
    finally:  # the killed replica back for the tests after this one, whatever this found
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
