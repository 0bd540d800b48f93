"""The browser-facing flows, wired together: authorize (code and user-agent), device.

``build_browser`` also registers their token-endpoint halves with the token endpoint's
registry: the ``authorization_code`` grant, the device grants (``device`` and RFC 8628's URN),
and Salesforce's ``response_type=device_code`` request.
"""

from __future__ import annotations

from dataclasses import dataclass

from localforce.oauth.artifacts import GrantStore
from localforce.oauth.endpoints.authorize import CODE_TTL, Authorizer
from localforce.oauth.endpoints.device_authorization import DeviceAuthorizationEndpoint
from localforce.oauth.endpoints.device_verification import DeviceVerifier
from localforce.oauth.flows.authorization_code import AuthorizationCodeFlow
from localforce.oauth.flows.device_code import DeviceCodeFlow
from localforce.oauth.services import OAuthServices


@dataclass
class BrowserFlows:
    grants: GrantStore
    authorizer: Authorizer
    device_authorization: DeviceAuthorizationEndpoint
    verifier: DeviceVerifier


def build_browser(oauth: OAuthServices, grants: GrantStore,
                  code_seconds: int = CODE_TTL) -> BrowserFlows:
    flows = BrowserFlows(
        grants=grants,
        authorizer=Authorizer(oauth.directory, grants, oauth.consents, oauth.issuer,
                              oauth.clock, issuer_id=oauth.base_url, code_ttl=code_seconds),
        device_authorization=DeviceAuthorizationEndpoint(oauth, grants),
        verifier=DeviceVerifier(oauth.directory, grants, oauth.clock))
    for flow in (AuthorizationCodeFlow(oauth, grants), DeviceCodeFlow(oauth, grants),
                 flows.device_authorization):
        oauth.server.register(flow)
    return flows
