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

Only requests the lean path answers exactly as Starlette would are taken: ``POST`` with an
``application/x-www-form-urlencoded`` body and no query string, on the exact paths. Anything
else (GET on the token endpoint, multipart or chunked bodies, host aliases) goes to Starlette.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from localforce import commits
from localforce.bootstrap import Services
from localforce.oauth.endpoints.introspection import Introspection
from localforce.oauth.endpoints.revocation import Revocation
from localforce.oauth.errors import OAuthError
from localforce.oauth.messages import TokenRequest
from localforce.web import forms, threads
from localforce.web.clientip import STATE_KEY, ClientIpResolver
from localforce.web.errors import (
    json_bytes,
    no_store_json_headers,
    oauth_error_response,
    unexpected_error_response,
)
from localforce.web.logging import AccessLog
from localforce.web.middleware import HSTS_VALUE, HttpsRequired, hsts_applies, refusal
from localforce.web.ratelimit import LoginRateByIp
from localforce.web.ratelimit import refusal as rate_refusal

#: (status, raw headers, body) of an answer.
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
#: A hot route: the scope and the parsed form -> its answer (or a typed error).
Route = Callable[[Scope, dict[str, str]], Awaitable[Reply]]

_FORM = b"application/x-www-form-urlencoded"
_HSTS = (b"strict-transport-security", HSTS_VALUE.encode())
_NO_STORE_EMPTY = no_store_json_headers(0, typed=False)


class HotPath:
    """ASGI app: the hot routes served here, every other request passed to ``app``."""

    def __init__(self, app: ASGIApp, services: Services, resolver: ClientIpResolver,
                 access_log: AccessLog, https: HttpsRequired, login_rate: LoginRateByIp) -> None:
        self.app = app
        self.resolver, self.access_log = resolver, access_log
        self.https, self.login_rate = https, login_rate
        self.routes = oauth_routes(services)

    def __getattr__(self, name: str) -> Any:  # ``state``, ``routes`` of the app behind
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope["query_string"]:
            route = self.routes.get(scope["path"])
            if route is not None and _form_body(scope):
                await self._serve(scope, receive, send, route)
                return
        await self.app(scope, receive, send)

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
                except Exception as error:
                    await _send(scope, send, _reply(unexpected_error_response(
                        scope["method"], scope["path"])))
                    raise error
            status = reply[0]
            await _send(scope, send, reply)
        finally:
            self.access_log.done(scope, started, usage_at_ms, status)

    async def _answer(self, scope: Scope, receive: Receive, route: Route) -> Reply:
        if self.https.refuses(scope):
            return _reply(refusal(scope["path"]))
        if not await self.login_rate.allows(scope):
            return _reply(rate_refusal(scope["path"]))
        try:
            return await route(scope, forms.urlencoded(await _body(receive)))
        except OAuthError as error:
            return _reply(oauth_error_response(error))


def oauth_routes(services: Services) -> dict[str, Route]:
    """``/services/oauth2/{token,introspect,revoke}``: the same flows as web/routes/oauth.py."""
    oauth, metrics = services.oauth, services.audit.metrics
    revocation, introspection = Revocation(oauth), Introspection(oauth)

    async def token(scope: Scope, values: dict[str, str]) -> Reply:
        token_request = _token_request(scope, values)
        # The password grant waits on argon2: it runs on the login threads.
        run = threads.login if token_request.grant_type == "password" else threads.run
        with metrics.grant(token_request.grant_type):
            reply = await run(oauth.server.token, token_request)
        return _json(reply.body())

    async def introspect(scope: Scope, values: dict[str, str]) -> Reply:
        return _json(await threads.run(introspection.introspect, _token_request(scope, values)))

    async def revoke(scope: Scope, values: dict[str, str]) -> Reply:
        await threads.run(revocation.revoke, _token_request(scope, values))
        return 200, _NO_STORE_EMPTY, b""

    return {"/services/oauth2/token": token, "/services/oauth2/introspect": introspect,
            "/services/oauth2/revoke": revoke}


def _form_body(scope: Scope) -> bool:
    """A form-urlencoded body with a length: what ``forms.urlencoded`` parses as Starlette does."""
    length = content_type = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            length = value
    return (length is not None and content_type is not None
            and content_type.split(b";")[0].strip().lower() == _FORM)


def _token_request(scope: Scope, values: dict[str, str]) -> TokenRequest:
    authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
            break
    return forms.make_token_request(values, authorization, scope["state"][STATE_KEY],
                                    _url(scope))


def _url(scope: Scope) -> str:
    """The request URL without its query, as Starlette's ``request.url`` spells it."""
    from starlette.datastructures import URL

    return str(URL(scope=scope))


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
    return response.status_code, response.raw_headers, bytes(response.body)


async def _send(scope: Scope, send: Send, reply: Reply) -> None:
    status, headers, body = reply
    if hsts_applies(scope):
        headers = [*headers, _HSTS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

