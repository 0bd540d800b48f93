"""The lean dispatcher: the hot endpoints on the raw ASGI interface, everything else on the
Starlette app behind it (web/app.py).

Measured (bench/README.md), the HTTP stack cost more CPU than a grant itself: Starlette's
request, router and exception wrappers, six pure-ASGI middlewares, the streaming form parser.
Here a hot request is one function per route, reading the scope and body directly, and the
cross-cutting rules those middlewares apply are applied by one wrapper, ``HotPath._serve``, in
the same order: client IP, access log and API usage, commit before answer, HTTPS rule, login
rate by IP; HSTS on the way out. The rules are the same objects' methods (web/clientip.py,
web/logging.py, web/middleware.py, web/ratelimit.py), errors are rendered by web/errors.py,
and each route calls the same flow as its Starlette twin (web/routes/oauth.py).

Only requests the lean path answers exactly as Starlette would are taken:

- ``/services/oauth2/{token,introspect,revoke}``: ``POST`` with an
  ``application/x-www-form-urlencoded`` body of known length (at most ``MAX_FORM_BODY``) and
  no query string;
- the data API's query, queryAll, sObject create/retrieve/update/delete and limits: the method
  the route lists, on a path whose first match in ``data.TABLE`` (Starlette's order) is one of
  those routes; served by the very endpoint Starlette would call, without the router and the
  middleware chain.

Anything else (GET on the token endpoint, multipart or chunked bodies, host aliases, HEAD,
every other route) goes to Starlette.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from localforce import commits
from localforce.bootstrap import Services
from localforce.oauth.errors import OAuthError
from localforce.oauth.messages import TokenRequest
from localforce.web import forms, threads
from localforce.web.apiusage import DATA_PREFIX
from localforce.web.clientip import STATE_KEY, ClientIpResolver
from localforce.web.errors import (
    database_unavailable,
    json_bytes,
    no_store_json_headers,
    oauth_error_response,
    unexpected_error_response,
)
from localforce.web.logging import AccessLog
from localforce.web.middleware import HSTS_VALUE, HttpsRequired, hsts_applies, refusal
from localforce.web.ratelimit import LoginRateByIp
from localforce.web.ratelimit import refusal as rate_refusal
from localforce.web.requestsize import MAX_FORM_BODY
from localforce.web.routes import data

#: (status, raw headers, body) of an answer.
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
#: A hot route: the request -> its answer (or a typed error).
Route = Callable[[Scope, Receive], Awaitable[Reply]]
#: The data API routes served here, and the methods taken on each (paths as in data.TABLE).
HOT_DATA = {"/sobjects/{sobject}": {"POST"},
            "/sobjects/{sobject}/{id}": {"GET", "PATCH", "DELETE"},
            "/query": {"GET"}, "/queryAll": {"GET"}, "/limits": {"GET"}}

#: Grants tried on the event loop on SQLite (web/threads.py ``on_loop``): they read and hand
#: rows to the group-commit writer. The others write in place (a code or device consumed) or
#: verify a password, and go to a thread at once.
INLINE_GRANTS = frozenset({"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer",
                           "refresh_token"})
#: On PostgreSQL, the grants tried on the event loop: every read client credentials and the
#: JWT bearer grant make is the directory's and nearly always answered by its caches. A read
#: that is not (a checkout from the pool, a raw read: storage/sql/engine.py
#: ``LoopGuardedPool``) or an in-place write raises ``WouldWait`` and the grant runs on a
#: request thread, as before. A refresh token is read from the database each time, so that
#: grant goes to a thread at once. (The JWT bearer grant on the loop first measured no gain;
#: it does since the loop writes its rows itself, storage/sql/group_commit.py; bench/README.md.)
CACHED_GRANTS = frozenset({"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"})

DATA_PATH = DATA_PREFIX[0]
_FORM = b"application/x-www-form-urlencoded"
_HSTS = (b"strict-transport-security", HSTS_VALUE.encode())
_NO_STORE_EMPTY = no_store_json_headers(0, typed=False)
_UNSEEN = object()


class HotPath:
    """ASGI app: the hot routes served here, every other request passed to ``app``."""

    def __init__(self, app: ASGIApp, services: Services, resolver: ClientIpResolver,
                 access_log: AccessLog, https: HttpsRequired, login_rate: LoginRateByIp) -> None:
        self.app = app
        self.resolver, self.access_log = resolver, access_log
        self.https, self.login_rate = https, login_rate
        self.routes = oauth_routes(services)
        self.data = DataRoutes(services)

    def __getattr__(self, name: str) -> Any:  # ``state``, ``routes`` of the app behind
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._route(scope)
            if route is not None:
                await self._serve(scope, receive, send, route)
                return
        await self.app(scope, receive, send)

    def _route(self, scope: Scope) -> Route | None:
        path = scope["path"]
        if path.startswith(DATA_PATH):
            return self.data.route(scope)
        if scope["method"] == "POST" and not scope["query_string"] and _form_body(scope):
            return self.routes.get(path)
        return None

    async def _serve(self, scope: Scope, receive: Receive, send: Send, route: Route) -> None:
        """The one wrapper: the rules of web/app.py's middleware chain around ``route``."""
        scope.setdefault("state", {})[STATE_KEY] = self.resolver.for_scope(scope)
        started, usage_at_ms = self.access_log.started(scope)
        status = 500
        try:
            with commits.deferred() as pending:
                try:
                    reply = await self._answer(scope, receive, route)
                    if pending:  # no answer before the rows it vouches for are committed
                        await commits.settle(pending)
                except Exception as exc:
                    reply = _reply(unexpected_error_response(scope["method"], scope["path"]))
                    if not database_unavailable(exc):
                        status = reply[0]
                        await _send(scope, send, reply)
                        raise  # the server logs it and closes the connection
                    # The database away: the 503 is the whole answer (logged in one line),
                    # and the connection stays open, as for any other answer; closing it
                    # made a load balancer drop its clients' next requests unanswered.
            status = reply[0]
            await _send(scope, send, reply)
        finally:
            self.access_log.done(scope, started, usage_at_ms, status)

    async def _answer(self, scope: Scope, receive: Receive, route: Route) -> Reply:
        if self.https.refuses(scope):
            return _reply(refusal(scope["path"]))
        if self.login_rate.guards(scope) and not await self.login_rate.counted(scope):
            return _reply(rate_refusal(scope["path"]))
        try:
            return await route(scope, receive)
        except OAuthError as error:
            return _reply(oauth_error_response(error))


def oauth_routes(services: Services) -> dict[str, Route]:
    """``/services/oauth2/{token,introspect,revoke}``: the same flows as web/routes/oauth.py."""
    oauth, metrics = services.oauth, services.audit.metrics
    revocation, introspection = oauth.revocation, oauth.introspection
    inline = services.reads_never_wait
    loop_grants = INLINE_GRANTS if inline else CACHED_GRANTS

    async def token(scope: Scope, receive: Receive) -> Reply:
        token_request = await _token_request(scope, receive)
        grant = token_request.grant_type
        with metrics.grant(grant):
            if grant == "password":  # waits on argon2: on the login threads
                reply = await threads.login(oauth.server.token, token_request)
            else:
                reply = await threads.on_loop(grant in loop_grants, oauth.server.token,
                                              token_request)
        return _json(reply.body())

    async def introspect(scope: Scope, receive: Receive) -> Reply:
        # On PostgreSQL too: the caller, the token (oauth/recent_tokens.py) and its user are
        # nearly always the caches'; a read that is not goes to a thread (``CACHED_GRANTS``).
        return _json(await threads.on_loop(True, introspection.introspect,
                                           await _token_request(scope, receive)))

    async def revoke(scope: Scope, receive: Receive) -> Reply:
        await threads.write(revocation.revoke, await _token_request(scope, receive))
        return 200, _NO_STORE_EMPTY, b""

    return {"/services/oauth2/token": token, "/services/oauth2/introspect": introspect,
            "/services/oauth2/revoke": revoke}


def _form_body(scope: Scope) -> bool:
    """A form-urlencoded body with a length: what ``forms.urlencoded`` parses as Starlette does.
    A body over ``MAX_FORM_BODY`` goes to Starlette, whose BodyLimit refuses it (413)."""
    length = content_type = None
    for name, value in scope["headers"]:
        if name == b"content-type" and content_type is None:  # the first, as Headers.get
            content_type = value
        elif name == b"content-length":
            length = value
    return (length is not None and content_type is not None
            and content_type.split(b";")[0].strip().lower() == _FORM
            and length.isdigit() and int(length) <= MAX_FORM_BODY)


class DataRoutes:
    """The hot data API routes, found as Starlette's router would find them: the first route
    of ``data.TABLE`` (with or without a trailing slash) whose path matches."""

    def __init__(self, services: Services) -> None:
        self.table: list[tuple[re.Pattern[str], set[str], Route | None]] = []
        self.found: dict[str, Any] = {}
        for path, _methods, run in data.endpoints(services):
            hot = HOT_DATA.get(path, set())
            route = _data_route(run) if hot else None
            for variant in (data.BASE + path, data.BASE + path + "/"):
                self.table.append((compile_path(variant)[0], hot, route))

    def route(self, scope: Scope) -> Route | None:
        path = scope["path"]
        found = self.found.get(path, _UNSEEN)
        if found is _UNSEEN:
            if len(self.found) >= 1024:  # bounded whatever paths clients send
                self.found.clear()
            found = self.found[path] = self._match(path)
        if found is None or scope["method"] not in found[0]:
            return None
        _hot, route, params = found
        scope["path_params"] = dict(params)
        return route

    def _match(self, path: str) -> tuple[set[str], Route | None, dict[str, str]] | None:
        """The first route whose pattern matches ``path`` (a regex per route, in order: the
        answers are kept by path, ``found``)."""
        for pattern, hot, route in self.table:
            match = pattern.match(path)
            if match is not None:
                return hot, route, match.groupdict()
        return None


def _data_route(run: Callable[[Request], Awaitable[Response]]) -> Route:
    async def serve(scope: Scope, receive: Receive) -> Reply:
        return _reply(await run(Request(scope, receive)))

    return serve


async def _token_request(scope: Scope, receive: Receive) -> TokenRequest:
    values = forms.urlencoded(await _body(receive))
    authorization = dpop = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is None:  # the first, as Headers.get
                authorization = value.decode("latin-1")
        elif name == b"dpop":  # RFC 9449: one proof; two are refused ("")
            dpop = value.decode("latin-1") if dpop is None else ""
    return forms.make_token_request(values, authorization, scope["state"][STATE_KEY],
                                    _url(scope), dpop)


#: ``_url``'s answers by what they depend on: the same few per server (slow to build).
_URLS: dict[tuple[Any, ...], str] = {}


def _url(scope: Scope) -> str:
    """The request URL (it has no query here), as Starlette's ``request.url`` spells it."""
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    key = (scope.get("scheme"), host, tuple(server) if server else None, scope["path"])
    url = _URLS.get(key)
    if url is None:
        if len(_URLS) >= 256:  # bounded whatever Host headers clients send
            _URLS.clear()
        url = _URLS[key] = str(URL(scope=scope))
    return url


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _json(content: Any) -> Reply:
    body = json_bytes(content)
    return 200, no_store_json_headers(len(body)), body


def _reply(response: Response) -> Reply:
    assert not isinstance(response, StreamingResponse)  # every hot route answers whole
    return response.status_code, response.raw_headers, bytes(response.body)


async def _send(scope: Scope, send: Send, reply: Reply) -> None:
    status, headers, body = reply
    if hsts_applies(scope):
        headers = [*headers, _HSTS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

