"""SOAP partner ``login()``/``logout()`` (salesforce-wire.md §9; clients.md §0 row 9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from tests.flows.conftest import PASSWORD, SECURITY_TOKEN, World

from localforce.domain import ids

NS = {"p": "urn:partner.soap.sforce.com", "sf": "urn:fault.partner.soap.sforce.com"}

SIMPLE_SALESFORCE = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
 <env:Header><urn:CallOptions><urn:client>simple-salesforce</urn:client>
 <urn:defaultNamespace>sf</urn:defaultNamespace></urn:CallOptions></env:Header>
 <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{u}</n1:username>
 <n1:password>{p}</n1:password></n1:login></env:Body></env:Envelope>"""

JSFORCE = """<?xml version="1.0" encoding="utf-8"?><se:Envelope
 xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>
 <login xmlns="urn:partner.soap.sforce.com"><username>{u}</username><password>{p}</password>
 </login></se:Body></se:Envelope>"""


def soap(world: World, body: str, version: str = "59.0"):  # type: ignore[no-untyped-def]
    return world.client.post(f"/services/Soap/u/{version}", content=body.encode(), headers={
        "Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"})


@pytest.mark.parametrize("envelope", [SIMPLE_SALESFORCE, JSFORCE])
def test_login_returns_unprefixed_result_elements(world: World, envelope: str) -> None:
    response = soap(world, envelope.format(u="admin@acme.test", p=PASSWORD + SECURITY_TOKEN))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    # Unprefixed, in the default namespace (simple-salesforce uses minidom tag names).
    for tag in ("<sessionId>", "<serverUrl>", "<userId>", "<organizationId>",
                "<passwordExpired>false</passwordExpired>", "<sessionSecondsValid>7200<"):
        assert tag in response.text
    result = ET.fromstring(response.content).find(".//p:result", NS)
    assert result is not None
    org15 = ids.to15(world.org.id)
    assert result.findtext("p:serverUrl", namespaces=NS) == (
        f"http://testserver/services/Soap/u/59.0/{org15}")
    assert result.findtext("p:userId", namespaces=NS) == ids.to18(world.user.id)
    session = result.findtext("p:sessionId", namespaces=NS)
    assert session and session.startswith(org15 + "!")
    # The session works on the API (and is a full-access session).
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {session}"})
    assert response.status_code == 200
    row = world.history()[-1]
    assert (row["status"], row["login_type"], row["api_type"]) == (
        "Success", "Other Apex API", "SOAP Partner")


@pytest.mark.parametrize("password", [PASSWORD, "wrong" + SECURITY_TOKEN])
def test_bad_login_is_an_invalid_login_fault(world: World, password: str) -> None:
    response = soap(world, SIMPLE_SALESFORCE.format(u="admin@acme.test", p=password))
    assert response.status_code == 500
    fault = ET.fromstring(response.content).find(".//{*}Fault")
    assert fault is not None
    assert fault.findtext("faultstring") == (
        "INVALID_LOGIN: Invalid username, password, security token; or user locked out.")
    assert fault.findtext(".//sf:exceptionCode", namespaces=NS) == "INVALID_LOGIN"
    # simple-salesforce and aiosalesforce match these literal prefixed names.
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.text
    assert "<sf:exceptionMessage>" in response.text
    assert world.history()[-1]["status"] == "Invalid Password"


def test_entities_are_refused(world: World) -> None:
    evil = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + SIMPLE_SALESFORCE.split("?>", 1)[1].format(u="&e;", p="x"))
    response = soap(world, evil)
    assert response.status_code == 500
    assert "passwd" not in response.text and "root:" not in response.text


def test_logout_ends_the_session(world: World) -> None:
    response = soap(world, JSFORCE.format(u="admin@acme.test", p=PASSWORD + SECURITY_TOKEN))
    session = ET.fromstring(response.content).findtext(".//p:sessionId", namespaces=NS)
    logout = ('<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header>'
              '<SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>'
              f'{session}</sessionId></SessionHeader></se:Header><se:Body>'
              '<logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>')
    assert soap(world, logout).status_code == 200
    world.services.oauth.sessions.forget("")  # nothing cached under an empty key
    response = world.client.get("/services/oauth2/userinfo",
                                headers={"Authorization": f"Bearer {session}"})
    assert response.status_code == 403


def test_unsupported_version(world: World) -> None:
    response = soap(world, JSFORCE.format(u="a", p="b"), version="12.0")
    assert response.status_code == 500
    assert "UNSUPPORTED_API_VERSION" in response.text
