"""Everything the OAuth surface needs, wired once by ``bootstrap.build``.

The web routes reach the endpoints, stores and helpers through this object; the flows and
endpoints themselves take only what they use (oauth/flows/needs.py, directory/ports.py).
``server`` is the token endpoint's flow registry, filled by ``bootstrap.token_handlers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localforce.directory.service import Directory
from localforce.oauth.client_auth import ClientAuthenticator
from localforce.oauth.credentials import Logins
from localforce.oauth.dpop import DpopProofs
from localforce.oauth.endpoints.identity import Identity
from localforce.oauth.endpoints.introspection import Introspection
from localforce.oauth.endpoints.revocation import Revocation
from localforce.oauth.endpoints.soap_login import SoapLogin
from localforce.oauth.issuing import Issuer
from localforce.oauth.keys import KeyRing
from localforce.oauth.ports import ConsentStore, LoginHistory, ReplayStore, TokenStore
from localforce.oauth.server import AuthorizationServer
from localforce.oauth.sessions import Sessions


@dataclass
class OAuthServices:
    directory: Directory
    clock: Callable[[], float]
    base_url: str
    tokens: TokenStore
    consents: ConsentStore
    replay: ReplayStore
    history: LoginHistory
    keys: KeyRing
    issuer: Issuer
    logins: Logins
    clients: ClientAuthenticator
    sessions: Sessions
    server: AuthorizationServer
    #: DPoP proofs (RFC 9449), for the token endpoint and the data API.
    proofs: DpopProofs
    #: Accepted JWT bearer ``aud`` values (normalised without a trailing slash).
    jwt_audiences: frozenset[str]
    #: The endpoints beside the token endpoint, each built with what it uses.
    introspection: Introspection
    revocation: Revocation
    identity: Identity
    soap_login: SoapLogin

    def now(self) -> int:
        return int(self.clock())
