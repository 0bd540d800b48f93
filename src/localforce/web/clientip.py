"""The client's IP address: the socket peer, or ``X-Forwarded-For`` behind a trusted proxy.

Every IP decision (profile login IP ranges, LoginHistory ``SourceIp``, per-IP rate limits)
reads the address resolved here, once per request, by the ``ClientIp`` middleware.

``X-Forwarded-For`` (or RFC 7239 ``Forwarded: for=``) is believed only when the socket peer is
in ``settings.trusted_proxies``:
anyone else can write any address into it (a spoofed header from an untrusted peer is
ignored). Behind trusted proxies the header is read right to left, skipping trusted hops; the
first untrusted address is the client (RFC 7239 §5.2 explains why only hops added by your own
proxies are trustworthy; the left end of the list is whatever the client sent).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where the middleware leaves the address: ``request.state.client_ip``.
STATE_KEY = "client_ip"


@functools.lru_cache(maxsize=1024)  # the same few peers again and again (slow to parse)
def parse_address(text: str) -> Address | None:
    """An IP from a socket peer or a forwarded hop; ``None`` for anything else (``unknown``,
    obfuscated identifiers, garbage). IPv4-mapped IPv6 peers are reported as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=1024)
def _text(address: Address) -> str:
    """An address's text (``ipaddress``'s ``str`` is slow, and the same few come again and
    again: bench/README.md)."""
    return str(address)


@functools.lru_cache(maxsize=1024)
def _peer_text(peer: str) -> str:
    """``resolve(peer)`` with no trusted proxy: the peer's address as text, or the peer as
    given when it is not an address (kept: the same few peers again and again)."""
    address = parse_address(peer)
    return _text(address) if address is not None else peer


class ClientIpResolver:
    """Resolve the client address from the socket peer and the forwarded-for hops."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(v.strip(), strict=False) for v in trusted_proxies if v.strip())

    def trusts(self, address: Address) -> bool:
        return any(address.version == n.version and address in n for n in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
        """``forwarded_for`` are the ``X-Forwarded-For`` header values in arrival order."""
        current = parse_address(peer) if peer else None
        if current is None:
            return peer or None
        if not self.trusts(current):
            return _text(current)
        hops = [h for value in forwarded_for for h in value.split(",")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                # A malformed hop breaks the chain: nothing left of it can be trusted, and the
                # last proxy we trust is the best we know.
                break
            current = address
            if not self.trusts(address):
                break
        return _text(current)

    def for_scope(self, scope: Scope) -> str | None:
        client = scope.get("client")
        peer = client[0] if client else None
        if not self._trusted:  # no proxy to believe: the socket peer is the client
            return _peer_text(peer) if peer else None
        return self.resolve(peer, forwarded_for(Headers(scope=scope)))


def forwarded_elements(headers: Headers) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`` as one
    ``{parameter: value}`` per element, in arrival order (quotes removed, names lower-cased)."""
    out = []
    for value in headers.getlist("forwarded"):
        for element in value.split(","):
            pairs = (pair.partition("=") for pair in element.split(";"))
            out.append({k.strip().lower(): v.strip().strip('"') for k, _, v in pairs if k})
    return out


def _node(value: str) -> str:
    """A ``for=`` node without its port: ``[2001:db8::1]:4711`` -> ``2001:db8::1``."""
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.partition(":")[0] if value.count(":") == 1 else value


def forwarded_for(headers: Headers) -> list[str]:
    """The forwarded-for hops: ``X-Forwarded-For`` when a proxy sends it, else the ``for=``
    nodes of RFC 7239 ``Forwarded``."""
    legacy = headers.getlist("x-forwarded-for")
    if legacy:
        return legacy
    return [",".join(_node(e["for"]) for e in forwarded_elements(headers) if "for" in e)]


def forwarded_proto(headers: Headers) -> str:
    """The scheme the last proxy says the client used: ``X-Forwarded-Proto`` or the last
    ``Forwarded`` element's ``proto``; empty when neither says."""
    legacy = headers.get("x-forwarded-proto")
    if legacy:
        return legacy.split(",")[-1].strip().lower()
    elements = forwarded_elements(headers)
    return elements[-1].get("proto", "").lower() if elements else ""


class ClientIp:
    """Pure ASGI middleware: resolve the client IP once, into ``scope["state"]``."""

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.resolver = ClientIpResolver(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("state", {})[STATE_KEY] = self.resolver.for_scope(scope)
        await self.app(scope, receive, send)


def direct_loopback(scope: Scope) -> bool:
    """The socket peer is this host and nothing relayed the request: a local client, not a
    reverse proxy on this host speaking for remote ones (it adds ``X-Forwarded-For`` or
    ``Forwarded``)."""
    client = scope.get("client")
    peer = parse_address(client[0]) if client else None
    if peer is None or not peer.is_loopback:
        return False
    # ASGI header names are lower-case: what ``Headers(scope=scope)`` would look for.
    for name, _value in scope["headers"]:
        if name == b"x-forwarded-for" or name == b"forwarded":
            return False
    return True


def client_ip(connection: HTTPConnection) -> str | None:
    """The request's client IP as the middleware resolved it (the socket peer if the
    middleware is not installed, e.g. in a unit test app)."""
    state = connection.scope.get("state") or {}
    if STATE_KEY in state:
        return state[STATE_KEY]  # type: ignore[no-any-return]
    return connection.client.host if connection.client else None
