"""GET|POST /id/{orgId}/{userId}: the identity URL (salesforce-wire.md §1.3).

Takes the token from ``Authorization: Bearer``, ``Authorization: DPoP`` with its proof, or the
``oauth_token`` parameter (jsforce's ``conn.identity()``); ``format=json`` is the only format
served.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.errors import DpopRefused
from localforce.oauth.endpoints.identity import IdentityError
from localforce.web import forms, threads
from localforce.web.auth import identity_credentials
from localforce.web.errors import SalesforceJSON
from localforce.web.routes.oauth import identity_error


def routes(services: Services) -> list[BaseRoute]:
    identity = services.oauth.identity

    async def identity_url(request: Request) -> Response:
        values = await forms.params(request)
        org_id, user_id = request.path_params["org_id"], request.path_params["user_id"]

        def read() -> dict[str, Any]:  # a DPoP proof's jti is written: on a request thread
            token, jkt = identity_credentials(services, request, values.get("oauth_token"))
            return identity.identity(token, org_id, user_id, values.get("version"), jkt)

        try:
            body = await threads.run(read)
        except (IdentityError, DpopRefused) as error:
            return identity_error(error)
        return SalesforceJSON(body)

    return [Route("/id/{org_id}/{user_id}", identity_url, methods=["GET", "POST"])]
