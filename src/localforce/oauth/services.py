"""Everything the OAuth surface needs, wired once by ``bootstrap.build``.

Flows, endpoints and routes reach stores and helpers through this object; tests swap parts
of it. ``server`` is the token endpoint's flow registry, filled by
``bootstrap.token_handlers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localforce.directory.service import Directory
from localforce.oauth.client_auth import ClientAuthenticator
from localforce.oauth.credentials import Logins
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
    #: Accepted JWT bearer ``aud`` values (normalised without a trailing slash).
    jwt_audiences: frozenset[str]

    def now(self) -> int:
        return int(self.clock())
