"""Prometheus metrics, one registry per ``Services`` (no import-time global registry).

Names follow the Prometheus conventions (``_total`` counters, ``_seconds`` histograms). Labels
are bounded: grant types come from the registered flows (anything else is ``other``), statuses
are HTTP codes, surfaces a fixed list.

With several uvicorn workers, ``localforce serve`` runs prometheus-client's multiprocess mode:
it points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start (the variable
must be set before a worker imports prometheus-client), every worker's values go to files
there, and a scrape sums them all, whichever worker answers it.
"""

from __future__ import annotations

import bisect
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector

from localforce.oauth.errors import OAuthError
from localforce.oauth.ports import PASSWORD_LOCKOUT, LoginAttempt, LoginHistory

if TYPE_CHECKING:
    from localforce.oauth.maintenance import Run as MaintenanceRun

#: Latency buckets in seconds: sub-millisecond hits up to the 10 s of a heavy query.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
#: prometheus-client's switch to multiprocess mode (read when it is imported).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self, known_grant_types: Sequence[str] = (),
                 multiprocess_dir: str | None = None) -> None:
        """``multiprocess_dir``: the workers' shared folder, when this process is one of
        several workers (``multiprocess_dir_of``)."""
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self._grant_types = set(known_grant_types)
        self._children: dict[tuple[MetricWrapperBase, tuple[str, ...]], Any] = {}
        r = self.registry
        self.grants = Counter("localforce_token_grants", "Token endpoint requests by grant type "
                              "and outcome (success or the OAuth error code)",
                              ["grant_type", "outcome"], registry=r)
        self.logins = Counter("localforce_login_attempts", "LoginHistory rows by login type "
                              "and status", ["login_type", "status"], registry=r)
        self.lockouts = Counter("localforce_lockout_refusals", "Logins refused because the "
                                "user is locked out", registry=r)
        self.data_requests = Counter("localforce_data_api_requests", "Data-API requests by "
                                     "HTTP status", ["status"], registry=r)
        self.limit_rejections = Counter("localforce_limit_rejections", "Requests refused by "
                                        "a limit", ["limit"], registry=r)
        self.latency = Histogram("localforce_request_duration_seconds", "Request latency by "
                                 "surface", ["surface"], buckets=BUCKETS, registry=r)
        self.api_log_dropped = Counter("localforce_api_usage_log_dropped", "API usage log "
                                       "entries dropped because the writer fell behind",
                                       registry=r)
        self.redis_failures = Counter("localforce_redis_failures", "Redis calls that failed "
                                      "(the service fell back: database counters, TTL caches)",
                                      ["use"], registry=r)
        self.invalidations = Counter("localforce_cache_invalidations", "Cache invalidations "
                                     "by direction (sent to or received from other processes)",
                                     ["direction"], registry=r)

        self.maintenance_last_run = Gauge(
            "localforce_maintenance_last_run_timestamp_seconds", "When this process last ran "
            "the scheduled maintenance (purge and key rotation; epoch seconds)",
            multiprocess_mode="max", registry=r)
        self.maintenance_purged = Counter("localforce_maintenance_purged_rows", "Rows the "
                                          "scheduled purge deleted, by store", ["store"],
                                          registry=r)
        self.key_rotations = Counter("localforce_signing_key_rotations", "Signing keys the "
                                     "schedule published", registry=r)
        self.maintenance_lock = Gauge("localforce_maintenance_lock_held", "1 while this "
                                      "process holds the maintenance lock (one process of a "
                                      "deployment does)", multiprocess_mode="livesum",
                                      registry=r)
        self.maintenance_failures = Counter("localforce_maintenance_failures", "Maintenance "
                                            "runs that failed (the database away)", registry=r)

    def maintenance_ran(self, run: MaintenanceRun) -> None:
        self.maintenance_last_run.set(run.at)
        for store, rows in run.purged.items():
            self.maintenance_purged.labels(store).inc(rows)
        if run.rotated:
            self.key_rotations.inc()

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's values, or every worker's summed."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        """``metric.labels(*labels)``, the same object, looked up once: prometheus-client
        validates and locks on every ``labels`` call (four per hot request; bench/README.md). Only
        for bounded label values, as every label here is."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def observe_all(self, histogram: Histogram, label: str, amounts: Sequence[float]) -> None:
        """``child.observe(amount)`` for each of ``amounts`` (``child``: the histogram's child
        for ``label``), counted together: the sum once and each bucket once per call, where
        observing one by one adds to both for every amount (in multiprocess mode each add is a
        locked write to a shared file; the access log books a batch of requests at a time,
        web/logging.py). Uses the histogram's internals (``_upper_bounds``, ``_buckets``,
        ``_sum``) as ``observe`` does; tests/unit/audit/test_metrics.py holds the exposition
        to observing one by one."""
        child = self.child(histogram, label)
        buckets: dict[int, int] = {}
        for amount in amounts:  # ``observe``'s bucket: the first bound the amount is within
            at = bisect.bisect_left(child._upper_bounds, amount)  # noqa: SLF001
            buckets[at] = buckets.get(at, 0) + 1
        child._sum.inc(sum(amounts))  # noqa: SLF001
        for at, count in buckets.items():
            child._buckets[at].inc(count)  # noqa: SLF001

    def know_grant_types(self, names: Sequence[str]) -> None:
        self._grant_types |= set(names)

    @contextmanager
    def grant(self, grant_type: str | None) -> Iterator[None]:
        """Count one token-endpoint request around the call that serves it."""
        label = grant_type if grant_type in self._grant_types else "other"
        try:
            yield
        except OAuthError as error:
            self.child(self.grants, label, error.error).inc()
            raise
        except Exception:
            self.child(self.grants, label, "server_error").inc()
            raise
        self.child(self.grants, label, "success").inc()


class MeteredLoginHistory:
    """A ``LoginHistory`` that also counts each attempt (the observing hook of style §7.2
    habit 3: the rules stay explicit in ``oauth.credentials``)."""

    def __init__(self, inner: LoginHistory, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def record(self, attempt: LoginAttempt) -> str:
        row_id = self._inner.record(attempt)
        self._metrics.child(self._metrics.logins, attempt.login_type, attempt.status).inc()
        if attempt.status == PASSWORD_LOCKOUT:
            self._metrics.lockouts.inc()
        return row_id


def multiprocess_dir_of(environ: Mapping[str, str] = os.environ) -> str | None:
    """The multiprocess folder this process was started with, if any."""
    return environ.get(MULTIPROCESS_ENV) or None


def share_between_workers(path: Path) -> None:
    """Workers started after this count into ``path`` (one /metrics over every worker). Set
    in the environment for workers that start afresh, and in prometheus_client's choice of
    value class, which it makes once at import: forked workers (web/servers.py) inherit this
    process's choice rather than making it again. Each value asks which process it is in
    at every change, to follow a fork (its file is per process): here the answer is kept
    and renewed in the child at each fork, where ``os.getpid`` was a system call per metric
    change (two to four per request, bench/README.md)."""
    from prometheus_client import values

    os.environ[MULTIPROCESS_ENV] = str(path)
    values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
        process_identifier=_this_process)


#: This process's id, renewed in a forked child (``_this_process``).
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def _this_process() -> int:
    return _pid[0]


def fresh_multiprocess_dir(home: Path, pid: int) -> Path:
    """``{home}/metrics/{pid}`` for the workers of the server process ``pid``, empty: values
    a previous run left must not be summed into this one's. Folders of server processes that
    are gone are removed on the way (each running server keeps its own)."""
    root = home / "metrics"
    if root.is_dir():
        for folder in root.iterdir():
            if folder.is_dir() and (folder.name == str(pid) or not _alive(folder.name)):
                shutil.rmtree(folder, ignore_errors=True)
    path = root / str(pid)
    path.mkdir(parents=True)
    return path


def _alive(pid_text: str) -> bool:
    if not pid_text.isdigit():
        return True  # not ours: leave it
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
