"""Client authentication at the token, introspection and revocation endpoints.

RFC 6749 §2.3.1: ``client_secret_basic`` (HTTP Basic) or ``client_secret_post`` (body); both
are what Salesforce advertises (salesforce-wire.md §1.1). Flows call ``authenticate``
explicitly with whether their rule needs the secret (e.g. "Require Secret for Refresh Token
Flow"); a secret that is presented is always checked, even when it is optional.

``private_key_jwt`` (RFC 7523 §2.2, oauth/client_assertion.py) is taken from any app with a
certificate; an app with "require private_key_jwt" takes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from localforce.directory.ports import AppsByKey
from localforce.domain.models import ConnectedApp
from localforce.oauth.errors import InvalidClient, InvalidClientId
from localforce.oauth.messages import TokenRequest

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Assertions(Protocol):
    """``client_assertion.ClientAssertions``."""

    def verify(self, app: ConnectedApp, assertion: str | None, url: str | None) -> None: ...


class ClientAuthenticator:
    """``check_secret(app, presented)``: the constant-time comparison with the app's sealed
    consumer secret (``Directory.check_secret``). ``assertions``: ``private_key_jwt``."""

    def __init__(self, apps: AppsByKey,
                 check_secret: Callable[[ConnectedApp, str | None], bool],
                 assertions: Assertions | None = None) -> None:
        self._apps = apps
        self._check_secret = check_secret
        self._assertions = assertions

    def find(self, client_id: str | None, org_id: str | None = None) -> ConnectedApp:
        """The app with this consumer key — preferably ``org_id``'s, which matters for the
        built-in PlatformCLI key that every org has; ``invalid_client_id`` if there is none."""
        apps = self._apps
        app = None
        if client_id and org_id:
            app = apps.find_app_by_key(client_id, org_id)
        if app is None and client_id:
            app = apps.find_app_by_key(client_id)
        if app is None:
            raise InvalidClientId()
        return app

    def authenticate(self, request: TokenRequest, *, require_secret: bool,
                     org_id: str | None = None) -> ConnectedApp:
        """The calling app; ``invalid_client`` for a wrong or missing (required) secret."""
        return self.client(request, require_secret=require_secret, org_id=org_id)[0]

    def client(self, request: TokenRequest, *, require_secret: bool,
               org_id: str | None = None) -> tuple[ConnectedApp, str | None]:
        """The calling app and the consumer secret it presented, checked (None if it presented
        none and needed none): a flow hands it to the issuer, which then need not open the
        app's sealed secret a second time to sign the response."""
        app = self.find(request.client_id, org_id)
        kind = request.params.get("client_assertion_type")
        if kind is not None or app.require_private_key_jwt:
            if kind != ASSERTION_TYPE or self._assertions is None \
                    or request.client_secret is not None:
                raise InvalidClient("client assertion required" if kind is None
                                    else "invalid client assertion")
            self._assertions.verify(app, request.get("client_assertion"), request.url)
            return app, None
        secret = request.client_secret
        if secret is None and not require_secret:
            return app, None
        if not self._check_secret(app, secret):
            raise InvalidClient()
        return app, secret
