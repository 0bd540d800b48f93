"""/services/oauth2/{token,revoke,introspect,userinfo}, /.well-known/openid-configuration and
/id/keys. Thin: parse (web/forms.py), one core call in the threadpool, render."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.errors import DpopRefused
from localforce.oauth.endpoints.identity import BAD_TOKEN, IdentityError
from localforce.oauth.endpoints.metadata import openid_configuration
from localforce.oauth.errors import InvalidRequest
from localforce.web import forms, threads
from localforce.web.auth import identity_credentials
from localforce.web.errors import NO_STORE, SalesforceJSON

CORS = {"Access-Control-Allow-Origin": "*"}


def identity_error(error: IdentityError | DpopRefused) -> Response:
    """Salesforce's plain-text identity errors; a refused DPoP proof is 401 with its
    challenge (RFC 9449 §7.1) and the same text as a bad token."""
    if isinstance(error, DpopRefused):
        return PlainTextResponse(BAD_TOKEN, status_code=401, headers=error.headers)
    return PlainTextResponse(error.text, status_code=error.status)


def routes(services: Services) -> list[BaseRoute]:
    oauth = services.oauth
    revocation, introspection, identity = oauth.revocation, oauth.introspection, oauth.identity

    async def token(request: Request) -> Response:
        if request.method != "POST":
            raise InvalidRequest("must use HTTP POST")
        token_request = await forms.token_request(request)
        # The password grant waits on argon2: it runs on the login threads.
        run = threads.login if token_request.grant_type == "password" else threads.run
        with services.audit.metrics.grant(token_request.grant_type):
            reply = await run(oauth.server.token, token_request)
        return SalesforceJSON(reply.body(), headers=NO_STORE)

    async def revoke(request: Request) -> Response:
        if request.method == "HEAD":  # Starlette answers HEAD on GET routes; a HEAD never writes
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        await threads.write(revocation.revoke, await forms.token_request(request))
        return Response(status_code=200, headers=NO_STORE)

    async def introspect(request: Request) -> Response:
        token_request = await forms.token_request(request)
        body = await threads.run(introspection.introspect, token_request)
        return SalesforceJSON(body, headers=NO_STORE)

    async def userinfo(request: Request) -> Response:
        values = await forms.params(request)

        def read() -> dict[str, Any]:  # a DPoP proof's jti is written: on a request thread
            token, jkt = identity_credentials(services, request, values.get("oauth_token"),
                                              values.get("access_token"))
            return identity.userinfo(token, values.get("version"), jkt)

        try:
            body = await threads.run(read)
        except (IdentityError, DpopRefused) as error:
            return identity_error(error)
        return SalesforceJSON(body)

    async def well_known(_request: Request) -> Response:
        return SalesforceJSON(openid_configuration(oauth.base_url, oauth.server.grant_types),
                              headers=CORS)

    async def jwks(_request: Request) -> Response:
        return SalesforceJSON(await threads.run(oauth.keys.jwks), headers=CORS)

    return [
        Route("/services/oauth2/token", token, methods=["GET", "POST"]),
        Route("/services/oauth2/revoke", revoke, methods=["GET", "POST"]),
        Route("/services/oauth2/introspect", introspect, methods=["POST"]),
        Route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
        Route("/.well-known/openid-configuration", well_known, methods=["GET"]),
        Route("/id/keys", jwks, methods=["GET"]),
    ]
