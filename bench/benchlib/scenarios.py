"""The scenarios: what each sends, and a probe that proves the server answers it with success.

A scenario is prepared right before it is measured: the preparation sends one real request
and checks the answer (a token, ``active: true``, the records). Anything else — a 404 because
the endpoint has not landed, an ``unsupported_grant_type`` — makes the scenario "not available"
with the server's answer as the reason, and the run goes on with the others.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

from .http import call
from .load import LoadSpec

SpecForRun = Callable[[int], LoadSpec]
API = "/services/data/v62.0"
TOKEN = "/services/oauth2/token"


class NotAvailable(Exception):
    """The server cannot serve this scenario yet; the message says what it answered."""


@dataclass(frozen=True)
class Scenario:
    key: str  # "localforce.client_credentials"
    label: str
    #: Keys of the results this one is divided by: the peer's, the floor's.
    peer: str | None
    floor: str | None
    prepare: Callable[[], SpecForRun]
    #: Run again in the growth phase (10^6 live tokens).
    growth: bool = False
    #: A second load running meanwhile (its own wrk process), e.g. logins beside queries.
    background: Callable[[], LoadSpec] | None = None
    #: Connections, when not the run's (the latency of one query on its own: 1).
    connections: int | None = None
    #: The key of the scenario measured in alternation with this one, run by run (PAIRS);
    #: None: measured alone.
    pair: str | None = None

    @property
    def target(self) -> str:
        return self.key.split(".", 1)[0]


def probe(spec: LoadSpec, accept: Callable[[Any], bool], expected: int = 200) -> Any:
    """Send the scenario's request once; its parsed body if ``accept`` likes it."""
    status, body = call(spec.url, spec.method, spec.body, spec.auth,
                        spec.content_type or "application/x-www-form-urlencoded")
    if status != expected or not accept(body):
        text = body if isinstance(body, str) else json.dumps(body)
        raise NotAvailable(f"HTTP {status} {text[:160]}")
    return body


def has(*names: str) -> Callable[[Any], bool]:
    return lambda body: isinstance(body, dict) and all(body.get(n) for n in names)


def active(body: Any) -> bool:
    return isinstance(body, dict) and body.get("active") is True


def static(spec: LoadSpec, accept: Callable[[Any], bool]) -> Callable[[], SpecForRun]:
    def prepare() -> SpecForRun:
        probe(spec, accept)
        return lambda _run: spec
    return prepare


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- floor and peer ------------------------------------------------------------------------

FLOOR_GET, FLOOR_POST = "floor.get", "floor.form_post"
RAW_GET, RAW_POST = "floor.raw_get", "floor.raw_post"
#: Each Starlette floor's raw-callable twin (the second floor: the HTTP server alone).
RAW_OF = {FLOOR_GET: RAW_GET, FLOOR_POST: RAW_POST}
PEER_CC, PEER_INTROSPECT = "peer.client_credentials", "peer.introspection"
#: The third floor, per database: the raw callable running localforce's SELECT of the query.
STORE_QUERY = "floor.store_query"


def floor_scenarios(base: str, raw: bool = False) -> list[Scenario]:
    """The Starlette floor's two scenarios, or (``raw``) the raw callable's."""
    get, post = (RAW_GET, RAW_POST) if raw else (FLOOR_GET, FLOOR_POST)
    kind = "raw callable" if raw else "bare"
    return [
        Scenario(get, f"{kind} GET", None, None,
                 static(LoadSpec(base + "/hello"), has("hello"))),
        Scenario(post, f"{kind} form POST", None, None,
                 static(LoadSpec(base + "/token", "POST", "grant_type=client_credentials"),
                        has("access_token"))),
    ]


def store_floor_scenario(base: str) -> Scenario:
    """The raw callable's ``GET /query``: localforce's page SELECT on the same database."""
    return Scenario(STORE_QUERY, "raw callable + the query's SELECT", None, FLOOR_GET,
                    static(LoadSpec(base + "/query"), has("records")))


def peer_scenarios(base: str, client_id: str, secret: str) -> list[Scenario]:
    auth = basic(client_id, secret)
    grant = LoadSpec(base + "/token", "POST", "grant_type=client_credentials&scope=read+write",
                     auth)

    def introspection() -> SpecForRun:
        token = probe(grant, has("access_token"))["access_token"]
        spec = LoadSpec(base + "/token/introspection", "POST", urlencode({"token": token}), auth)
        probe(spec, active)
        return lambda _run: spec

    return [
        Scenario(PEER_CC, "client_credentials", None, None, static(grant, has("access_token"))),
        Scenario(PEER_INTROSPECT, "introspection", None, None, introspection),
    ]


# -- localforce ----------------------------------------------------------------------------

#: The scenarios issue #18's bars divide by another's, and that other: each is measured in
#: alternation with it, run by run, so the ratio does not move with the machine between them.
PAIRS = {
    "localforce.client_credentials": PEER_CC,
    "localforce.jwt_bearer": PEER_CC,
    "localforce.introspection": PEER_INTROSPECT,
    "localforce.query": FLOOR_GET,
}


class LocalforceScenarios:
    """localforce's scenarios against one running server; ``minter`` writes refresh tokens."""

    def __init__(self, base: str, org: Any, minter: Any, workdir: Path,
                 name_query_target: str) -> None:
        self.base, self.org, self.minter, self.workdir = base, org, minter, workdir
        self.name_query_target = name_query_target
        self._access: str | None = None

    def all(self) -> list[Scenario]:
        return [replace(s, pair=PAIRS.get(s.key)) for s in self._all()]

    def _all(self) -> list[Scenario]:
        g = "localforce."
        return [
            Scenario(g + "client_credentials", "client_credentials", PEER_CC, FLOOR_POST,
                     static(self._token_spec(self.org.client_credentials_body()),
                            has("access_token")), growth=True),
            Scenario(g + "jwt_bearer", "JWT bearer", PEER_CC, FLOOR_POST, self.jwt,
                     growth=True),
            Scenario(g + "refresh", "refresh (no rotation)", None, FLOOR_POST, self.refresh),
            Scenario(g + "refresh_rotating", "refresh (rotation)", None, FLOOR_POST,
                     self.refresh_rotating),
            Scenario(g + "introspection", "introspection", PEER_INTROSPECT, FLOOR_POST,
                     self.introspection, growth=True),
            Scenario(g + "query", "query LIMIT 5", None, FLOOR_GET, self.query, growth=True),
            Scenario(g + "retrieve", "record retrieve", None, FLOOR_GET, self.retrieve),
            Scenario(g + "create", "record create", None, FLOOR_POST, self.create),
            Scenario(g + "update", "record update", None, FLOOR_POST, self.update),
            Scenario(g + "name_query", "WHERE Name = (every Account)", None, FLOOR_GET,
                     self.name_query, growth=True),
            Scenario(g + "name_query_c1", "WHERE Name =, 1 connection", None, None,
                     self.name_query, connections=1),
            # Last: argon2id's memory stays with the worker threads that ran it, and would
            # show in the RSS of every scenario after these.
            Scenario(g + "password", "password grant (argon2id)", None, FLOOR_POST,
                     static(self._token_spec(self.org.password_body()), has("access_token"))),
            Scenario(g + "query_during_logins", "query LIMIT 5 while logins run", None,
                     FLOOR_GET, self.query, background=self.logins),
        ]

    def _token_spec(self, body: str) -> LoadSpec:
        return LoadSpec(self.base + TOKEN, "POST", body)

    def access_token(self) -> str:
        """An access token with the api scope, by client credentials (else the password flow)."""
        if self._access is None:
            errors = []
            for body in (self.org.client_credentials_body(), self.org.password_body()):
                status, answer = call(self.base + TOKEN, "POST", body)
                if status == 200 and isinstance(answer, dict) and answer.get("access_token"):
                    self._access = str(answer["access_token"])
                    break
                errors.append(f"HTTP {status} {str(answer)[:100]}")
            else:
                raise NotAvailable("no access token: " + "; ".join(errors))
        return self._access

    def jwt(self) -> SpecForRun:
        # A fresh assertion per run: each lives under Salesforce's 3-minute limit.
        probe(self._token_spec(self.org.jwt_body()), has("access_token"))
        return lambda _run: self._token_spec(self.org.jwt_body())

    def refresh(self) -> SpecForRun:
        token = self.minter.refresh_tokens(self.org.app, 1, self.access_token())[0]
        spec = self._token_spec(self.org.refresh_body(self.org.app, token))
        probe(spec, has("access_token"))
        return lambda _run: spec

    def refresh_rotating(self) -> SpecForRun:
        app = self.org.rotating
        first = self.minter.refresh_tokens(app, 1, self.access_token())[0]
        answer = probe(self._token_spec(self.org.refresh_body(app, first)), has("access_token"))
        if answer.get("refresh_token") in (None, first):
            raise NotAvailable("the refresh grant does not rotate (no new refresh_token)")

        def for_run(run: int) -> LoadSpec:
            # 256 unspent tokens per run: a connection always finds one (64 in flight).
            pool = self.minter.refresh_tokens(app, 256, self.access_token())
            path = self.workdir / f"rotate-{run + 1}.txt"
            path.write_text("\n".join(pool) + "\n")
            return LoadSpec(self.base + TOKEN, "POST", self.org.refresh_body(app),
                            rotate_file=path)
        return for_run

    def introspection(self) -> SpecForRun:
        spec = LoadSpec(self.base + "/services/oauth2/introspect", "POST",
                        self.org.introspect_body(self.access_token()))
        probe(spec, active)
        return lambda _run: spec

    def logins(self) -> LoadSpec:
        spec = self._token_spec(self.org.password_body())
        probe(spec, has("access_token"))
        return spec

    def _api(self, path: str) -> LoadSpec:
        return LoadSpec(self.base + API + path, auth="Bearer " + self.access_token())

    def query(self) -> SpecForRun:
        spec = self._api("/query?q=" + quote_plus("SELECT Id,Name FROM Account LIMIT 5"))
        probe(spec, lambda body: isinstance(body, dict) and len(body.get("records", [])) > 0)
        return lambda _run: spec

    def first_account_id(self) -> str:
        """An Account's Id: a seeded one, else one created through the API."""
        body = probe(self._api("/query?q=" + quote_plus("SELECT Id FROM Account LIMIT 1")),
                     lambda b: isinstance(b, dict) and "records" in b)
        if body["records"]:
            return str(body["records"][0]["Id"])
        status, created = call(self.base + API + "/sobjects/Account", "POST",
                               json.dumps({"Name": "Bench Seed Account"}),
                               "Bearer " + self.access_token(), "application/json")
        if status != 201 or not isinstance(created, dict) or not created.get("id"):
            raise NotAvailable(f"creating an Account: HTTP {status} {str(created)[:160]}")
        return str(created["id"])

    def retrieve(self) -> SpecForRun:
        record_id = self.first_account_id()
        spec = self._api(f"/sobjects/Account/{record_id}")
        probe(spec, lambda body: isinstance(body, dict) and body.get("Id", "")[:15] ==
              record_id[:15])
        return lambda _run: spec

    def create(self) -> SpecForRun:
        """An Account per request, all of the same name (no other scenario looks it up)."""
        spec = LoadSpec(self.base + API + "/sobjects/Account", "POST",
                        json.dumps({"Name": "Bench Created Account"}),
                        "Bearer " + self.access_token(), content_type="application/json")
        probe(spec, lambda body: isinstance(body, dict) and body.get("success") is True, 201)
        return lambda _run: spec

    def update(self) -> SpecForRun:
        """One Account's Description, set again and again."""
        spec = LoadSpec(self.base + API + f"/sobjects/Account/{self.first_account_id()}",
                        "PATCH", json.dumps({"Description": "Updated by the bench"}),
                        "Bearer " + self.access_token(), content_type="application/json")
        probe(spec, lambda body: body == "", 204)
        return lambda _run: spec

    def name_query(self) -> SpecForRun:
        soql = f"SELECT Id,Name FROM Account WHERE Name = '{self.name_query_target}'"
        spec = self._api("/query?q=" + quote_plus(soql))
        probe(spec, lambda body: isinstance(body, dict) and body.get("totalSize") == 1)
        return lambda _run: spec
