"""Prometheus metrics, one registry per ``Services`` (no import-time global registry).

Names follow the Prometheus conventions (``_total`` counters, ``_seconds`` histograms). Labels
are bounded: grant types come from the registered flows (anything else is ``other``), statuses
are HTTP codes, surfaces a fixed list. With several uvicorn workers each worker has its own
registry; a scrape sees the worker that answered (set ``PROMETHEUS_MULTIPROC_DIR`` to
aggregate, see web/metrics.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram

from localforce.oauth.errors import OAuthError
from localforce.oauth.ports import PASSWORD_LOCKOUT, LoginAttempt, LoginHistory

#: Latency buckets in seconds: sub-millisecond hits up to the 10 s of a heavy query.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self, known_grant_types: Sequence[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._grant_types = set(known_grant_types)
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

    def know_grant_types(self, names: Sequence[str]) -> None:
        self._grant_types |= set(names)

    @contextmanager
    def grant(self, grant_type: str | None) -> Iterator[None]:
        """Count one token-endpoint request around the call that serves it."""
        label = grant_type if grant_type in self._grant_types else "other"
        try:
            yield
        except OAuthError as error:
            self.grants.labels(label, error.error).inc()
            raise
        except Exception:
            self.grants.labels(label, "server_error").inc()
            raise
        self.grants.labels(label, "success").inc()


class MeteredLoginHistory:
    """A ``LoginHistory`` that also counts each attempt (the observing hook of style §7.2
    habit 3: the rules stay explicit in ``oauth.credentials``)."""

    def __init__(self, inner: LoginHistory, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def record(self, attempt: LoginAttempt) -> str:
        row_id = self._inner.record(attempt)
        self._metrics.logins.labels(attempt.login_type, attempt.status).inc()
        if attempt.status == PASSWORD_LOCKOUT:
            self._metrics.lockouts.inc()
        return row_id
