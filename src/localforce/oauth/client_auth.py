"""Client authentication at the token, introspection and revocation endpoints.

RFC 6749 §2.3.1: ``client_secret_basic`` (HTTP Basic) or ``client_secret_post`` (body); both
are what Salesforce advertises (salesforce-wire.md §1.1). Flows call ``authenticate``
explicitly with whether their rule needs the secret (e.g. "Require Secret for Refresh Token
Flow"); a secret that is presented is always checked, even when it is optional.
"""

from __future__ import annotations

from localforce.directory.service import Directory
from localforce.domain.models import ConnectedApp
from localforce.oauth.errors import InvalidClient, InvalidClientId
from localforce.oauth.messages import TokenRequest


class ClientAuthenticator:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    def find(self, client_id: str | None, org_id: str | None = None) -> ConnectedApp:
        """The app with this consumer key — preferably ``org_id``'s, which matters for the
        built-in PlatformCLI key that every org has; ``invalid_client_id`` if there is none."""
        store = self._directory.store
        app = None
        if client_id and org_id:
            app = store.find_app_by_key(client_id, org_id)
        if app is None and client_id:
            app = store.find_app_by_key(client_id)
        if app is None:
            raise InvalidClientId()
        return app

    def authenticate(self, request: TokenRequest, *, require_secret: bool,
                     org_id: str | None = None) -> ConnectedApp:
        """The calling app; ``invalid_client`` for a wrong or missing (required) secret."""
        app = self.find(request.client_id, org_id)
        secret = request.client_secret
        if secret is None and not require_secret:
            return app
        if not self._directory.check_secret(app, secret):
            raise InvalidClient()
        return app
