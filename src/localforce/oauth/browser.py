"""The browser-facing flows, wired together: authorize (code and user-agent), device.

Their token-endpoint halves (the ``authorization_code`` grant, the device grants and
Salesforce's ``response_type=device_code`` request) are registered with the others in
``bootstrap.token_handlers``.
"""

from __future__ import annotations

from dataclasses import dataclass

from localforce.oauth.artifacts import GrantStore
from localforce.oauth.endpoints.authorize import CODE_TTL, Authorizer
from localforce.oauth.endpoints.device_authorization import DeviceAuthorizationEndpoint
from localforce.oauth.endpoints.device_verification import DeviceVerifier
from localforce.oauth.endpoints.par import PushedAuthorizationEndpoint
from localforce.oauth.services import OAuthServices


@dataclass
class BrowserFlows:
    grants: GrantStore
    authorizer: Authorizer
    device_authorization: DeviceAuthorizationEndpoint
    verifier: DeviceVerifier
    par: PushedAuthorizationEndpoint


def build_browser(oauth: OAuthServices, grants: GrantStore,
                  code_seconds: int = CODE_TTL) -> BrowserFlows:
    authorizer = Authorizer(oauth.directory.store, grants, oauth.consents, oauth.issuer,
                            oauth.clock, issuer_id=oauth.base_url, code_ttl=code_seconds)
    return BrowserFlows(
        grants=grants,
        authorizer=authorizer,
        device_authorization=DeviceAuthorizationEndpoint(oauth.clients, grants, oauth.base_url,
                                                         oauth.clock),
        verifier=DeviceVerifier(oauth.directory.store, grants, oauth.clock),
        par=PushedAuthorizationEndpoint(oauth.clients, authorizer, grants, oauth.clock))
