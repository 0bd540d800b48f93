"""Client IP resolution: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from localforce.web.clientip import ClientIp, ClientIpResolver, client_ip


def _app(trusted: list[str]) -> Starlette:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(client_ip(request) or "-")

    app = Starlette(routes=[Route("/ip", echo)])
    app.add_middleware(ClientIp, trusted_proxies=trusted)
    return app


async def _ip(trusted: list[str], peer: str, headers: list[tuple[str, str]]) -> str:
    transport = httpx.ASGITransport(app=_app(trusted), client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return (await http.get("/ip", headers=headers)).text


@pytest.mark.anyio
async def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert await _ip(["10.0.0.1"], "203.0.113.9", [("X-Forwarded-For", "10.1.2.3")]) \
        == "203.0.113.9"


@pytest.mark.anyio
async def test_no_trusted_proxies_means_the_header_is_never_read() -> None:
    assert await _ip([], "127.0.0.1", [("X-Forwarded-For", "10.1.2.3")]) == "127.0.0.1"


@pytest.mark.anyio
async def test_trusted_proxy_forwards_the_client_address() -> None:
    assert await _ip(["10.0.0.0/8"], "10.0.0.1", [("X-Forwarded-For", "198.51.100.7")]) \
        == "198.51.100.7"


@pytest.mark.anyio
async def test_client_cannot_smuggle_an_address_through_a_trusted_proxy() -> None:
    # The client sent "X-Forwarded-For: 10.9.9.9"; our proxy appended the real peer.
    headers = [("X-Forwarded-For", "10.9.9.9, 198.51.100.7")]
    assert await _ip(["10.0.0.1"], "10.0.0.1", headers) == "198.51.100.7"


def test_chain_of_trusted_proxies_is_walked_right_to_left() -> None:
    resolver = ClientIpResolver(["10.0.0.0/8"])
    assert resolver.resolve("10.0.0.1", ["1.1.1.1, 198.51.100.7, 10.0.0.2"]) == "198.51.100.7"
    # Several header lines are one list, in order.
    assert resolver.resolve("10.0.0.1", ["198.51.100.7", "10.0.0.3"]) == "198.51.100.7"


def test_malformed_hop_stops_at_the_last_trusted_proxy() -> None:
    resolver = ClientIpResolver(["10.0.0.0/8"])
    assert resolver.resolve("10.0.0.1", ["unknown, 10.0.0.2"]) == "10.0.0.2"
    assert resolver.resolve("10.0.0.1", ["garbage"]) == "10.0.0.1"
    assert resolver.resolve("10.0.0.1", []) == "10.0.0.1"


def test_only_trusted_hops_means_the_leftmost_is_the_client() -> None:
    assert ClientIpResolver(["10.0.0.0/8"]).resolve("10.0.0.1", ["10.0.0.5, 10.0.0.2"]) \
        == "10.0.0.5"


def test_ipv6_and_mapped_ipv4() -> None:
    resolver = ClientIpResolver(["::1", "127.0.0.1"])
    assert resolver.resolve("::ffff:203.0.113.9") == "203.0.113.9"
    assert resolver.resolve("::1", ["2001:db8::5"]) == "2001:db8::5"
    assert resolver.resolve("127.0.0.1", ["::ffff:198.51.100.1"]) == "198.51.100.1"
