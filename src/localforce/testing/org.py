"""A real ``localforce serve --tls`` started for tests, and the handle tests hold: ``Org``.

The server runs in its own process on a free port, with its own home (database, TLS CA) and a
random test-control key: only that server accepts clock, fault and reset requests
(web/testcontrol.py). Each pytest-xdist worker starts its own in its own temporary folder.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localforce.client import Session, UsernamePassword

KEY_HEADER = "X-Localforce-Test-Key"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass(frozen=True)
class User:
    username: str
    password: str = field(repr=False)
    security_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class App:
    name: str
    consumer_key: str
    consumer_secret: str | None = field(default=None, repr=False)


class Clock:
    """The org's time: ``advance(hours=3)`` moves token expiry, refresh policies, lockout
    windows, code and device-code expiry and LoginHistory timestamps forward together."""

    def __init__(self, org: Org) -> None:
        self._org = org

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0,
                seconds: float = 0) -> float:
        """Move forward; returns the org's new time (epoch seconds)."""
        step = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        return float(self._org.control("POST", "clock", {"advance": step})["now"])


class Faults:
    """Answers for the next ``times`` matching requests (``path`` prefix: the data API unless
    told), as Salesforce sends them."""

    def __init__(self, org: Org) -> None:
        self._org = org

    def _add(self, kind: str, times: int, path: str | None, method: str | None,
             seconds: float = 0) -> None:
        self._org.control("POST", "faults", {"kind": kind, "times": times, "path": path,
                                             "method": method, "seconds": seconds})

    def request_limit_exceeded(self, times: int = 1, *, path: str | None = None,
                               method: str | None = None) -> None:
        """403 ``REQUEST_LIMIT_EXCEEDED`` (``TotalRequests Limit exceeded.``)."""
        self._add("REQUEST_LIMIT_EXCEEDED", times, path, method)

    def unavailable(self, times: int = 1, *, retry_after: int = 1, path: str | None = None,
                    method: str | None = None) -> None:
        """503 ``SERVER_UNAVAILABLE`` with ``Retry-After``."""
        self._add("SERVER_UNAVAILABLE", times, path, method, retry_after)

    def invalid_session(self, times: int = 1, *, path: str | None = None,
                        method: str | None = None) -> None:
        """401 ``INVALID_SESSION_ID`` although the token is live."""
        self._add("INVALID_SESSION_ID", times, path, method)

    def slow(self, seconds: float, times: int = 1, *, path: str | None = None,
             method: str | None = None) -> None:
        """Answer late, by ``seconds``."""
        self._add("SLOW", times, path, method, seconds)

    def clear(self) -> None:
        self._org.control("DELETE", "faults")


class _SeedLogin(UsernamePassword):
    """The password grant for a seeded user, without the legacy warning: a test org allows it."""

    def __post_init__(self) -> None:
        pass


class Org:
    """A running org: its URLs, seeded users and apps, and the test controls."""

    def __init__(self, base_url: str, ca: Path, key: str, seed: dict[str, Any],
                 process: subprocess.Popen[bytes], folder: Path) -> None:
        self.base_url = base_url
        #: Where clients log in: the server itself (no separate login host).
        self.login_url = base_url
        self.ca = ca
        #: What an httpx client (the SDK's included) passes as ``verify`` to trust the org.
        self.ssl_context = ssl.create_default_context(cafile=str(ca))
        self.folder = folder
        self.process = process
        self._key = key
        self._http = httpx.Client(base_url=base_url, verify=self.ssl_context, trust_env=False,
                                  timeout=60)
        self.users = {u["username"]: User(u["username"], u.get("password", ""),
                                          u.get("security_token", ""))
                      for u in seed.get("users", [])}
        self.apps = {a["name"]: App(a["name"], a["consumer_key"], a.get("consumer_secret"))
                     for a in seed.get("apps", []) if a.get("consumer_key")}
        self.clock = Clock(self)
        self.faults = Faults(self)
        #: The requests sessions handed to simple-salesforce: closed before the server stops
        #: (an idle TLS connection that never reads holds uvicorn's shutdown).
        self._sessions: list[Any] = []

    @property
    def user(self) -> User:
        """The seed's first user."""
        return next(iter(self.users.values()))

    @property
    def app(self) -> App:
        """The seed's first app with a consumer key."""
        return next(iter(self.apps.values()))

    @property
    def hostport(self) -> str:
        return self.base_url.split("://", 1)[1]

    def control(self, method: str, action: str, body: dict[str, Any] | None = None
                ) -> dict[str, Any]:
        response = self._http.request(method, f"/_localforce/test/{action}", json=body,
                                      headers={KEY_HEADER: self._key})
        if response.status_code != 200:
            raise RuntimeError(f"test control {action}: {response.status_code} {response.text}")
        return response.json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Back to the seed's state: records, users, tokens, lockouts, API usage; the clock
        back to now and no faults."""
        self.control("POST", "reset")

    def _user(self, user: str | User | None) -> User:
        if isinstance(user, User):
            return user
        return self.users[user] if user else self.user

    def access_token(self, user: str | User | None = None) -> str:
        with self.client(user) as session:
            return session.login().access_token

    def client(self, user: str | User | None = None, app: str | None = None) -> Session:
        """An SDK session for a seeded user (the password grant), verified against the CA."""
        who, connected = self._user(user), self.apps[app] if app else self.app
        provider = _SeedLogin(self.login_url, connected.consumer_key, connected.consumer_secret,
                              who.username, who.password, who.security_token)
        return Session(provider, http=httpx.Client(verify=self.ssl_context, trust_env=False,
                                                   timeout=60))

    def simple_salesforce_kwargs(self, user: str | User | None = None) -> dict[str, Any]:
        """``Salesforce(**org.simple_salesforce_kwargs())``: a SOAP login at this org, through
        the ``{host}/login.salesforce.com`` alias simple-salesforce's ``domain`` builds, with a
        ``requests`` session that trusts the org's CA."""
        import requests

        who = self._user(user)
        session = requests.Session()
        session.trust_env = False  # no proxy for a loopback server
        session.verify = str(self.ca)
        self._sessions.append(session)
        return {"username": who.username, "password": who.password,
                "security_token": who.security_token, "domain": f"{self.hostport}/login",
                "session": session}

    def env(self, user: str | User | None = None) -> dict[str, str]:
        """Variables for a client in a subprocess (jsforce, ``sf``, a script): no proxies, the
        CA trusted by Python and Node, and the org's URL and credentials."""
        who = self._user(user)
        env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
        env.update(REQUESTS_CA_BUNDLE=str(self.ca), SSL_CERT_FILE=str(self.ca),
                   NODE_EXTRA_CA_CERTS=str(self.ca), SF_LOGIN_URL=self.login_url,
                   SF_INSTANCE_URL=self.base_url, SF_USERNAME=who.username,
                   SF_PASSWORD=who.password, SF_SECURITY_TOKEN=who.security_token)
        if self.apps:
            env.update(SF_CLIENT_ID=self.app.consumer_key,
                       SF_CLIENT_SECRET=self.app.consumer_secret or "")
        return env

    def stop(self) -> None:
        for session in self._sessions:
            session.close()
        self._http.close()
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_org(folder: Path, seed: Path | None = None, timeout: float = 60) -> Org:
    """Start ``localforce serve --tls`` for tests in ``folder`` (created; its own home) with
    ``seed`` (default: ``seed.DEFAULT_SEED``), wait until it answers, and snapshot it."""
    from localforce.testing.seed import DEFAULT_SEED

    folder.mkdir(parents=True, exist_ok=True)
    if seed is None:
        seed = folder / "seed.toml"
        seed.write_text(DEFAULT_SEED)
    key = secrets.token_urlsafe(24)
    port = free_port()
    home = folder / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    # No scheduled maintenance: tests move this server's clock and restore its database, and
    # a purge or key rotation on its own schedule would act on both underneath them.
    env.update(LOCALFORCE_HOME=str(home), LOCALFORCE_TEST_CONTROL_KEY=key,
               LOCALFORCE_MAINTENANCE="false")
    log = folder / "server.log"
    with log.open("wb") as out:  # the folder is the working directory: no stray localforce.toml
        process = subprocess.Popen(
            [sys.executable, "-m", "localforce.cli.main", "serve", "--tls", "--port", str(port),
             "--seed", str(seed.resolve())], cwd=folder, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    ca = home / "tls" / "ca.pem"
    deadline = time.monotonic() + timeout
    while not _healthy(f"https://127.0.0.1:{port}", ca):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"localforce serve did not start:\n{log.read_text()}")
        time.sleep(0.05)
    org = Org(f"https://127.0.0.1:{port}", ca, key, tomllib.loads(seed.read_text()), process,
              folder)
    org.control("POST", "snapshot")
    return org


def _healthy(url: str, ca: Path) -> bool:
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), trust_env=False,
                          timeout=5) as http:
            return http.get(f"{url}/healthz").status_code == 200
    except (httpx.TransportError, FileNotFoundError, OSError):
        return False
