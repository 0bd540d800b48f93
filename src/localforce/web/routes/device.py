"""Device flow routes: activation at ``/setup/connect`` and RFC 8628's authorization endpoint.

The activation page (RFC 8628 §3.3): the user enters the code from the device, logs in if
needed, sees the app and its scopes, and allows or denies. Every form carries a CSRF token;
every step re-checks the code. ``POST /services/oauth2/device/code`` is RFC 8628 §3.1's
device authorization endpoint (Salesforce's own dialect arrives at the token endpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.oauth.credentials import LoginFailed
from localforce.oauth.endpoints.device_authorization import PATH as DEVICE_CODE_PATH
from localforce.oauth.endpoints.device_authorization import VERIFICATION_PATH
from localforce.oauth.endpoints.device_verification import PendingDevice, UnknownUserCode
from localforce.oauth.errors import OAuthError
from localforce.oauth.grants import refusal
from localforce.web import threads
from localforce.web.errors import NO_STORE, SalesforceJSON, oauth_error_response
from localforce.web.forms import token_request
from localforce.web.routes.pages import CREDENTIAL_FAILURES, Pages, scope_labels

UNKNOWN_CODE = "That code is not valid or has expired. Check the code on your device."


class ActivationPages:
    def __init__(self, services: Services) -> None:
        self.pages = Pages(services)
        self.verifier = services.browser.verifier
        self.login_url = services.oauth.base_url + VERIFICATION_PATH

    def get(self, request: Request, form: Mapping[str, str]) -> Response:
        typed = form.get("user_code", "")
        user = self.pages.sessions.user(request)
        if typed and user is not None:
            try:
                return self.approve_page(request, self.verifier.find(typed), user.username)
            except UnknownUserCode:
                return self.activate_page(request, typed, UNKNOWN_CODE)
        return self.activate_page(request, typed)

    def post(self, request: Request, form: Mapping[str, str]) -> Response:
        if not self.pages.csrf_ok(request, form):
            return self.pages.csrf_failed(request)
        typed = form.get("user_code", "")
        try:
            pending = self.verifier.find(typed)
        except UnknownUserCode:
            return self.activate_page(request, typed, UNKNOWN_CODE)
        action = form.get("_action")
        if action == "login":
            return self.login(request, pending, form)
        user = self.pages.sessions.user(request)
        if user is None:
            return self.pages.login_page(request, VERIFICATION_PATH, pending.app,
                                         [("user_code", pending.user_code)], None)
        if action not in ("allow", "deny"):
            return self.approve_page(request, pending, user.username)
        try:
            self.verifier.decide(typed, user, action == "allow")
        except UnknownUserCode:
            return self.activate_page(request, typed, UNKNOWN_CODE)
        except OAuthError as error:
            return self.pages.error(request, error, 403)
        if action == "allow":
            return self.pages.message(request, "Device connected",
                                      f"{pending.app.name} is now connected. You can close "
                                      "this page and return to your device.")
        return self.pages.message(request, "Access denied",
                                  f"You denied {pending.app.name} access.")

    def login(self, request: Request, pending: PendingDevice,
              form: Mapping[str, str]) -> Response:
        try:
            user = self.pages.log_in(request, form, pending.app, self.login_url)
        except LoginFailed as failure:
            if failure.status in CREDENTIAL_FAILURES:
                return self.pages.login_page(request, VERIFICATION_PATH, pending.app,
                                             [("user_code", pending.user_code)],
                                             form.get("username"), failure)
            return self.pages.error(request, refusal(failure), 403)
        next_url = f"{VERIFICATION_PATH}?{urlencode({'user_code': pending.user_code})}"
        return self.pages.session_response(request, user, next_url)

    def activate_page(self, request: Request, typed: str, error: str | None = None) -> Response:
        return self.pages.render(request, "device_activate.html",
                                 {"user_code": typed, "error": error}, 200)

    def approve_page(self, request: Request, pending: PendingDevice, username: str) -> Response:
        return self.pages.render(request, "device_approve.html", {
            "user_code": pending.user_code, "app_name": pending.app.name, "username": username,
            "scope_labels": scope_labels(pending.device.scopes)})


def routes(services: Services) -> list[BaseRoute]:
    pages = ActivationPages(services)
    endpoint = services.browser.device_authorization

    async def activate(request: Request) -> Response:
        form = await pages.pages.form(request)
        if request.method == "POST":  # the activation page's login form: argon2
            return await threads.login(pages.post, request, form)
        return await threads.run(pages.get, request, form)

    async def device_code(request: Request) -> Response:
        """RFC 8628 §3.1-3.2."""
        token_req = await token_request(request)
        try:
            reply = await threads.run(endpoint.authorize, token_req, rfc8628=True)
        except OAuthError as error:
            return oauth_error_response(error)
        return SalesforceJSON(reply.body(), headers=NO_STORE)

    return [
        Route(VERIFICATION_PATH, activate, methods=["GET", "POST"]),
        Route(DEVICE_CODE_PATH, device_code, methods=["POST"]),
    ]
