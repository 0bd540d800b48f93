"""POST /services/Soap/u/{version}: the partner API's ``login()`` and ``logout()`` envelopes
(salesforce-wire.md §9, clients.md §0 row 9).

Parsed by namespace-independent local names, since clients use ``env:``/``n1:``, ``se:`` or a
default namespace. Replies use unprefixed result elements in the default namespace
``urn:partner.soap.sforce.com`` (simple-salesforce reads them with minidom, jsforce with
regexes); faults are HTTP 500 with ``faultstring`` and ``sf:exceptionCode``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.versions import is_supported
from localforce.domain import ids
from localforce.oauth.endpoints.soap_login import SoapLoginFault, SoapSession
from localforce.web import threads
from localforce.web.clientip import client_ip

XML_TYPE = "text/xml;charset=UTF-8"
_MAX_BODY = 64 * 1024
_PARTNER = 'xmlns="urn:partner.soap.sforce.com"'
_ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
             'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
             '{ns} '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}'
             '</soapenv:Body></soapenv:Envelope>')


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in root.iter() if _local(e.tag) == name), None)


def parse(body: bytes) -> ET.Element:
    """The envelope, refusing DTDs (no entity expansion of any kind)."""
    if len(body) > _MAX_BODY or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise SoapLoginFault("INVALID_REQUEST", "Invalid request")
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise SoapLoginFault("INVALID_REQUEST", "Invalid XML") from None


def _text(root: ET.Element, name: str) -> str | None:
    element = _find(root, name)
    return element.text if element is not None and element.text else None


def login_response(session: SoapSession) -> str:
    u, o = session.user, session.org
    user_info = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in (
        ("accessibilityMode", "false"), ("currencySymbol", "$"), ("orgAttachmentFileSizeLimit",
                                                                  "5242880"),
        ("orgDefaultCurrencyIsoCode", "USD"), ("orgDisallowHtmlAttachments", "false"),
        ("orgHasPersonAccounts", "false"), ("organizationId", ids.to18(o.id)),
        ("organizationMultiCurrency", "false"), ("organizationName", o.name),
        ("profileId", ids.to18(session.profile_id)), ("roleId", ""),
        ("sessionSecondsValid", str(session.seconds_valid)), ("userDefaultCurrencyIsoCode", ""),
        ("userEmail", u.email), ("userFullName", u.name), ("userId", ids.to18(u.id)),
        ("userLanguage", u.language), ("userLocale", u.locale), ("userName", u.username),
        ("userTimeZone", u.time_zone), ("userType", "Standard"), ("userUiSkin", "Theme3")))
    result = (f"<metadataServerUrl>{escape(session.metadata_server_url)}</metadataServerUrl>"
              "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
              f"<serverUrl>{escape(session.server_url)}</serverUrl>"
              f"<sessionId>{escape(session.session_id)}</sessionId>"
              f"<userId>{ids.to18(u.id)}</userId><userInfo>{user_info}</userInfo>")
    return _ENVELOPE.format(ns=_PARTNER, body=f"<loginResponse><result>{result}</result>"
                                             "</loginResponse>")


def fault(error: SoapLoginFault) -> Response:
    code, message = escape(error.code), escape(error.message)
    body = (f"<soapenv:Fault><faultcode>sf:{code}</faultcode>"
            f"<faultstring>{code}: {message}</faultstring><detail>"
            f'<sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}'
            f"</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage>"
            "</sf:LoginFault></detail></soapenv:Fault>")
    # No default namespace here: faultcode and faultstring are unqualified (SOAP 1.1 §4.4).
    xml = _ENVELOPE.format(ns='xmlns:sf="urn:fault.partner.soap.sforce.com"', body=body)
    return Response(xml, status_code=error.status, media_type=XML_TYPE)


def routes(services: Services) -> list[BaseRoute]:
    soap = services.oauth.soap_login

    async def endpoint(request: Request) -> Response:
        version = request.path_params["version"]
        try:
            if not is_supported(version):
                raise SoapLoginFault("UNSUPPORTED_API_VERSION",
                                     f"Invalid Api version specified on URL: {version}")
            root = parse(await request.body())
            if _find(root, "logout") is not None:
                await threads.run(soap.logout, _text(root, "sessionId"))
                return Response(_ENVELOPE.format(ns=_PARTNER, body="<logoutResponse/>"),
                                media_type=XML_TYPE)
            if _find(root, "login") is None:
                raise SoapLoginFault("INVALID_OPERATION", "This server answers login and logout")
            session = await threads.login(
                soap.login, _text(root, "username"), _text(root, "password"), version,
                client_ip(request), str(request.url))
        except SoapLoginFault as error:
            return fault(error)
        return Response(login_response(session), media_type=XML_TYPE)

    return [Route("/services/Soap/u/{version}", endpoint, methods=["POST"]),
            Route("/services/Soap/u/{version}/{org_id}", endpoint, methods=["POST"])]
