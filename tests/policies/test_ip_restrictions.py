"""Profile login IP ranges in every grant, under each app IP relaxation setting, with the
client IP taken from the socket or a trusted proxy's X-Forwarded-For only
(salesforce-wire.md §7 "IP Relaxation"; anchors.md §3)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.policies.conftest import (
    IP_RESTRICTED,
    KEY,
    OFFICE,
    SECRET,
    TRUSTED_PROXY,
    World,
    password_form,
    restrict_profile,
)

from localforce.domain.models import IpRelaxation
from localforce.oauth.issuing import IssuePolicy

INSIDE, OUTSIDE = "198.51.100.20", "203.0.113.50"


def _refresh_token(world: World) -> str:
    """A refresh token as a web-server-flow grant would have issued it."""
    issued = world.services.oauth.issuer.issue(world.app, world.user, ("api", "refresh_token"),
                                               IssuePolicy("authorization_code", with_refresh=True))
    return str(issued.refresh_token)


def _refresh(client: Any, token: str) -> Any:
    return client.post("/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": token, "client_id": KEY,
        "client_secret": SECRET})


def _last(world: World) -> dict[str, object]:
    return world.history()[-1]


def test_login_inside_the_range_is_allowed(world: World, peer: Any) -> None:
    restrict_profile(world, OFFICE)
    response = peer(INSIDE).post("/services/oauth2/token", data=password_form())
    assert response.status_code == 200
    assert (_last(world)["status"], _last(world)["source_ip"]) == ("Success", INSIDE)


@pytest.mark.parametrize("relaxation", [IpRelaxation.ENFORCE,
                                        IpRelaxation.ENFORCE_RELAX_REFRESH])
def test_password_grant_outside_the_range_is_refused(world: World, peer: Any,
                                                     relaxation: IpRelaxation) -> None:
    world.save_app(ip_relaxation=relaxation)
    restrict_profile(world, OFFICE)
    response = peer(OUTSIDE).post("/services/oauth2/token", data=password_form())
    assert (response.status_code, response.json()) == (400, IP_RESTRICTED)
    assert (_last(world)["status"], _last(world)["source_ip"]) == ("Restricted IP", OUTSIDE)


def test_relax_lets_every_grant_in_from_anywhere(world: World, peer: Any) -> None:
    world.save_app(ip_relaxation=IpRelaxation.RELAX)
    restrict_profile(world, OFFICE)
    client = peer(OUTSIDE)
    assert client.post("/services/oauth2/token", data=password_form()).status_code == 200
    assert client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": KEY,
        "client_secret": SECRET}).status_code == 200
    assert _last(world)["status"] == "Success"


def test_client_credentials_outside_the_run_as_users_range(world: World, peer: Any) -> None:
    restrict_profile(world, OFFICE)
    response = peer(OUTSIDE).post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET})
    assert (response.status_code, response.json()) == (400, IP_RESTRICTED)
    assert _last(world)["status"] == "Restricted IP"


@pytest.mark.parametrize(("relaxation", "allowed"), [
    (IpRelaxation.ENFORCE, False),
    (IpRelaxation.ENFORCE_RELAX_REFRESH, True),
    (IpRelaxation.RELAX, True),
])
def test_refresh_outside_the_range(world: World, peer: Any, relaxation: IpRelaxation,
                                   allowed: bool) -> None:
    refresh_token = _refresh_token(world)
    world.save_app(ip_relaxation=relaxation)
    restrict_profile(world, OFFICE)
    response = _refresh(peer(OUTSIDE), refresh_token)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert (response.status_code, response.json()) == (400, IP_RESTRICTED)
        assert (_last(world)["status"], _last(world)["source_ip"]) == ("Restricted IP", OUTSIDE)


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(world: World,
                                                                 peer: Any) -> None:
    restrict_profile(world, OFFICE)
    response = peer(OUTSIDE).post("/services/oauth2/token", data=password_form(),
                                  headers={"X-Forwarded-For": INSIDE})
    assert (response.status_code, response.json()) == (400, IP_RESTRICTED)
    assert (_last(world)["status"], _last(world)["source_ip"]) == ("Restricted IP", OUTSIDE)


def test_trusted_proxy_forwards_the_real_client(world: World, peer: Any) -> None:
    restrict_profile(world, OFFICE)
    proxy = peer(TRUSTED_PROXY)
    outside = proxy.post("/services/oauth2/token", data=password_form(),
                         headers={"X-Forwarded-For": f"{INSIDE}, {OUTSIDE}"})
    assert (outside.status_code, outside.json()) == (400, IP_RESTRICTED)
    assert _last(world)["source_ip"] == OUTSIDE
    inside = proxy.post("/services/oauth2/token", data=password_form(),
                        headers={"X-Forwarded-For": INSIDE})
    assert inside.status_code == 200
    assert (_last(world)["status"], _last(world)["source_ip"]) == ("Success", INSIDE)


def test_soap_login_outside_the_range(world: World, peer: Any) -> None:
    restrict_profile(world, OFFICE)
    envelope = ('<?xml version="1.0" encoding="utf-8"?><env:Envelope '
                'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:n1="urn:partner.soap.sforce.com"><env:Body><n1:login>'
                '<n1:username>admin@acme.test</n1:username>'
                f'<n1:password>{password_form()["password"]}</n1:password>'
                '</n1:login></env:Body></env:Envelope>')
    response = peer(OUTSIDE).post("/services/Soap/u/59.0", content=envelope,
                                  headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert response.status_code == 500
    assert "INVALID_LOGIN" in response.text
    assert (_last(world)["status"], _last(world)["login_type"]) == ("Restricted IP",
                                                                    "Other Apex API")
