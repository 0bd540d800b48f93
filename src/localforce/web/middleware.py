"""Transport middleware (pure ASGI): Salesforce host aliases, HTTPS-only credentials, HSTS,
and no answer before its writes are committed.

Registered in ``web/app.py`` outermost first: ``Hsts`` -> ``SalesforceHostAlias`` -> ...
``CommitBeforeAnswer`` -> ``HttpsRequired`` -> the routes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localforce import commits
from localforce.web.clientip import (
    ClientIpResolver,
    direct_loopback,
    forwarded_proto,
    parse_address,
)
from localforce.web.errors import https_required_response

#: ``/{label}.salesforce.com/services/...``: simple-salesforce always builds
#: ``https://{domain}.salesforce.com/services/...``, so ``domain="127.0.0.1:PORT/login"`` arrives
#: as ``/login.salesforce.com/services/...`` (clients.md §1, mechanism A).
_ALIAS = re.compile(r"^/[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.salesforce\.com(/services(?:/.*)?)$")
#: ``//services/...``: ``sf org login access-token|web --instance-url URL`` stores the URL with
#: a trailing slash and jsforce appends ``/services/...`` to it (clients.md §3).
_DOUBLE_SLASH = re.compile(r"^//+(services(?:/.*)?)$")

#: Endpoints that receive credentials or issue codes/tokens. Salesforce serves OAuth over HTTPS
#: only (salesforce-wire.md §1 "All OAuth endpoints HTTPS only"; §4 ``invalid_request`` "HTTPS
#: required"); RFC 6749 §3.1 and §3.2 require TLS for both endpoints.
TOKEN_PATH = "/services/oauth2/token"
AUTHORIZE_PATH = "/services/oauth2/authorize"
#: Every other endpoint that receives a password or issues a code: the device endpoints, the
#: activation page (it has a login form), SOAP ``login()`` (password + security token) and
#: RFC 9126's pushed authorization requests (the client's secret).
_JSON_PATHS = frozenset({TOKEN_PATH, "/services/oauth2/device/code", "/services/oauth2/par"})
_PAGE_PATHS = frozenset({AUTHORIZE_PATH, "/setup/connect"})
_SOAP_PREFIX = "/services/Soap/u/"


#: Endpoints that take a token or a secret rather than a password: the same rule.
_TOKEN_JSON_PATHS = frozenset({"/services/oauth2/introspect", "/services/oauth2/revoke",
                               "/services/oauth2/userinfo"})
_TOKEN_PREFIXES = ("/services/data/v", "/services/async/")
_JWKS_PATH = "/id/keys"
_FORM_PAGES = frozenset({"/logout", "/secur/logout.jsp", "/settings/connected-apps"})


def needs_https(path: str) -> bool:
    """One rule for every endpoint that takes a credential, a token or a session cookie."""
    return (path in _JSON_PATHS or path in _PAGE_PATHS or path in _TOKEN_JSON_PATHS
            or path in _FORM_PAGES or path.startswith(_SOAP_PREFIX)
            or path.startswith(_TOKEN_PREFIXES) or path.startswith("/setup")
            or (path.startswith("/id/") and path != _JWKS_PATH))  # the identity URL

#: Two years, as Salesforce sends it.
HSTS_VALUE = "max-age=63072000; includeSubDomains"


class SalesforceHostAlias:
    """Serve ``/{label}.salesforce.com/services/...`` and ``//services/...`` as
    ``/services/...``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            alias, doubled = _ALIAS.match(scope["path"]), _DOUBLE_SLASH.match(scope["path"])
            path = alias.group(1) if alias else "/" + doubled.group(1) if doubled else None
            if path is not None:
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


class HttpsRequired:
    """Refuse credential endpoints (token, authorize, device, activation, SOAP login) over
    plain HTTP from non-loopback peers.

    Loopback stays open so ``localforce serve`` works out of the box for local development.
    Behind a TLS-terminating proxy listed in ``trusted_proxies``, ``X-Forwarded-Proto: https``
    counts as HTTPS; from any other peer that header is ignored, since anyone can send it.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.resolver = ClientIpResolver(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.refuses(scope):
            await refusal(scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refuses(self, scope: Scope) -> bool:
        """An HTTP request to a credential endpoint over plain HTTP from a remote client."""
        return needs_https(scope["path"]) and not self._secure(scope)

    def _secure(self, scope: Scope) -> bool:
        """TLS; or a trusted proxy saying ``https`` (``X-Forwarded-Proto`` or ``Forwarded:
        proto=``); or a loopback client: one talking to us directly, or one a trusted proxy
        names. A loopback peer relaying for someone (forwarding headers) that we do not trust
        is not a local client."""
        if scope.get("scheme") == "https" or direct_loopback(scope):
            return True
        peer = parse_address((scope.get("client") or ("", 0))[0])
        trusted = peer is not None and self.resolver.trusts(peer)
        if trusted and forwarded_proto(Headers(scope=scope)) == "https":
            return True
        client = parse_address(self.resolver.for_scope(scope) or "")
        return trusted and client is not None and client.is_loopback


def refusal(path: str) -> Response:
    """Salesforce's ``HTTPS required``, in the shape the path's clients read
    (``errors.https_required_response``)."""
    return https_required_response(
        path, path in _JSON_PATHS or path in _TOKEN_JSON_PATHS or path.startswith("/id/"))


class Hsts:
    """``Strict-Transport-Security`` on every HTTPS response (RFC 6797 §7.1).

    Not for ``localhost`` names: HSTS is per host, not per port, so a browser that noted
    ``localhost`` would upgrade the ``http://localhost:1717/OauthRedirect`` callback the sf CLI
    listens on, and every other local dev server. IP literals get it; RFC 6797 §8.1 has user
    agents ignore it there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not hsts_applies(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Strict-Transport-Security"] = HSTS_VALUE
            await send(message)

        await self.app(scope, receive, send_with_hsts)


def hsts_applies(scope: Scope) -> bool:
    """An HTTPS request to a host that is not a ``localhost`` name."""
    return scope.get("scheme") == "https" and not _is_localhost(scope)


def _is_localhost(scope: Scope) -> bool:
    host = Headers(scope=scope).get("host", "").lower()
    if host.startswith("["):
        return False
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name == "localhost" or name.endswith(".localhost")


class CommitBeforeAnswer:
    """The request's group-committed writes (tokens, LoginHistory) are waited for just before
    its response starts, not in the thread that made them (``localforce.commits``): the
    thread goes back to work, the writer commits everything in flight together, and the
    response still never leaves before the rows it vouches for are committed. A failed commit
    raises here, before anything was sent, so the client gets a 500, not a token that was
    never stored."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with commits.deferred() as pending:

            async def send_when_committed(message: Message) -> None:
                if pending:
                    await commits.settle(pending)
                await send(message)

            await self.app(scope, receive, send_when_committed)
