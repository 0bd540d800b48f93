"""Several real ``localforce serve`` processes on one PostgreSQL database and one Redis: the
replicas of a deployment behind a load balancer (issue #15)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from localforce.security.secretbox import generate_key
from localforce.testing.org import PROXY_VARS, free_port
from localforce.testing.seed import DEFAULT_SEED

CONSUMER_KEY = "3MVG9localforce.test.key"
CONSUMER_SECRET = "localforce-test-secret"
ADMIN = "admin@test.localforce"


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int = 0


@dataclass
class Cluster:
    folder: Path
    database_url: str
    redis_url: str | None
    secret_key: str = field(default_factory=generate_key)
    replicas: list[Replica] = field(default_factory=list)
    #: More ``LOCALFORCE_*`` settings for every replica.
    settings: dict[str, str] = field(default_factory=dict)

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
        env.update(LOCALFORCE_HOME=str(self.folder / name), LOCALFORCE_SECRET_KEY=self.secret_key,
                   LOCALFORCE_DATABASE_URL=self.database_url)
        if self.redis_url:
            env["LOCALFORCE_REDIS_URL"] = self.redis_url
        env.update(self.settings)
        return env

    def start(self, n: int, timeout: float = 60) -> None:
        """The first replica loads the seed; the others start on the database it left."""
        seed = self.folder / "seed.toml"
        seed.parent.mkdir(parents=True, exist_ok=True)
        seed.write_text(DEFAULT_SEED)
        self._launch(0, ["--seed", str(seed)])
        self._wait(self.replicas[0], timeout)
        for i in range(1, n):
            self._launch(i, [])
        for replica in self.replicas[1:]:
            self._wait(replica, timeout)

    def _launch(self, i: int, extra: list[str], port: int | None = None) -> Replica:
        port = port or free_port()
        log = self.folder / f"replica{i}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "localforce.cli.main", "serve", "--port", str(port),
                 *extra], cwd=self.folder, env=self.env(f"home{i}"), stdout=out,
                stderr=subprocess.STDOUT)
        replica = Replica(f"http://127.0.0.1:{port}", process, log, port)
        if i < len(self.replicas):
            self.replicas[i] = replica
        else:
            self.replicas.append(replica)
        return replica

    def kill(self, i: int) -> None:
        """kill -9: no shutdown of any kind."""
        self.replicas[i].process.kill()
        self.replicas[i].process.wait()

    def restart(self, i: int, timeout: float = 60) -> None:
        """Start replica ``i`` again on its port (after ``kill``)."""
        self._wait(self._launch(i, [], self.replicas[i].port), timeout)

    @staticmethod
    def _wait(replica: Replica, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{replica.url}/healthz", trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if replica.process.poll() is not None or time.monotonic() > deadline:
                replica.process.kill()
                raise RuntimeError(f"replica did not start:\n{replica.log.read_text()}")
            time.sleep(0.05)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``localforce`` command on the same database and Redis (one more process)."""
        return subprocess.run([sys.executable, "-m", "localforce.cli.main", *args],
                              cwd=self.folder, env=self.env("cli"), capture_output=True,
                              text=True, check=True, timeout=60)

    def stop(self) -> None:
        for replica in self.replicas:
            replica.process.terminate()
        for replica in self.replicas:
            try:
                replica.process.wait(10)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
