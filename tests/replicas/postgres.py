"""This machine's PostgreSQL server stopped and started for real (Debian's ``pg_ctlcluster``),
for the outage test of tests/replicas/test_haproxy.py.

Every test run on this machine uses that server, so the restart runs only where the suite has
the machine to itself: under CI (``.ci/run`` runs the suite alone) or when
``LOCALFORCE_TEST_PG_RESTART=1`` says so. Whatever happens in between, ``outage`` leaves the
server running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def restart_allowed() -> bool:
    """Under CI (``.ci/run`` sets LOCALFORCE_REQUIRE_SERVICES; some CI systems set CI), or
    when asked."""
    return (os.environ.get("CI") == "true" or os.environ.get("LOCALFORCE_TEST_PG_RESTART") == "1"
            or os.environ.get("LOCALFORCE_REQUIRE_SERVICES") == "1")


@dataclass(frozen=True)
class PgCluster:
    version: str
    name: str

    def _ctl(self, action: str) -> None:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", "--mode", "fast",
                        self.version, self.name, action],
                       check=True, capture_output=True, timeout=120)

    def online(self) -> bool:
        return find_cluster_status(self) == "online"

    def stop(self) -> None:
        self._ctl("stop")

    def start(self) -> None:
        """Started (``pg_ctl -w``: it accepts connections when this returns)."""
        if not self.online():
            self._ctl("start")

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Stopped inside the block (fast shutdown: sessions cut, transactions rolled back),
        started again on leaving it however it is left."""
        try:
            self.stop()
            yield
        finally:
            self.start()


def _clusters() -> list[list[str]]:
    if shutil.which("pg_lsclusters") is None:
        return []
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                            timeout=30)
    return [line.split() for line in listed.stdout.splitlines() if line.strip()]


def find_cluster_status(cluster: PgCluster) -> str | None:
    for fields in _clusters():
        if fields[:2] == [cluster.version, cluster.name]:
            return fields[3]
    return None


def local_cluster(host: str, port: int) -> PgCluster | None:
    """The cluster of this machine listening on ``port``, when ``host`` is this machine and
    ``pg_ctlcluster`` can run it."""
    if host not in ("127.0.0.1", "localhost", "::1") or shutil.which("pg_ctlcluster") is None:
        return None
    for fields in _clusters():  # Ver Cluster Port Status Owner Data-directory Log-file
        if len(fields) >= 4 and fields[2] == str(port) and fields[3] == "online":
            return PgCluster(fields[0], fields[1])
    return None
