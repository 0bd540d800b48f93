"""The web server flow with PKCE (S256) for a program on the user's machine: open the browser
at the org's login page, wait for the redirect on ``http://127.0.0.1:<port>/<path>`` (RFC 8252
§7.3), exchange the code with the verifier.

The app's callback URL must be that redirect URI exactly (Salesforce matches it exactly):
``http://127.0.0.1:1717/OauthRedirect`` by default.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from localforce.client.core import token_grant
from localforce.client.errors import AuthenticationError
from localforce.client.providers import Provided
from localforce.client.session import Session, run_sync
from localforce.client.tokens import Token

DONE_PAGE = (b"<!doctype html><meta charset=utf-8><title>Logged in</title>"
             b"<p>You are logged in. You can close this window.</p>")


def pkce_pair() -> tuple[str, str]:
    """A random verifier (43 characters) and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class WebServerFlow:
    login_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    port: int = 1717
    path: str = "/OauthRedirect"
    scope: str | None = None
    #: Opens the authorize URL; ``webbrowser.open`` unless told (tests drive a browser).
    open_browser: Callable[[str], Any] = webbrowser.open
    timeout: float = 300.0
    verify: Any = True

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def run(self) -> Token:
        """Log in through the browser; the token (with its refresh token if the app grants
        one). Raises ``AuthenticationError`` on a refusal, a wrong ``state`` or a timeout."""
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri, "code_challenge": challenge,
                  "code_challenge_method": "S256", "state": state}
        if self.scope:
            params["scope"] = self.scope
        answer = self._wait_for_redirect(
            f"{self.login_url.rstrip('/')}/services/oauth2/authorize?{urlencode(params)}")
        if answer.get("state") != state:
            raise AuthenticationError("the redirect's state does not match", error_code="state")
        if "error" in answer or "code" not in answer:
            raise AuthenticationError(answer.get("error_description", "no code"),
                                      error_code=answer.get("error", "no_code"))
        form = {"grant_type": "authorization_code", "code": answer["code"],
                "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        provider = Provided(self.login_url, self.client_id, self.client_secret)
        with httpx.Client(verify=self.verify, timeout=60) as http:
            return run_sync(http, token_grant(provider, form))  # type: ignore[no-any-return]

    def session(self, **kwargs: Any) -> Session:
        """Log in and return a session that refreshes with the refresh token."""
        return Session(Provided(self.login_url, self.client_id, self.client_secret),
                       token=self.run(), verify=self.verify, **kwargs)

    def _wait_for_redirect(self, url: str) -> dict[str, str]:
        received: dict[str, str] = {}
        arrived = threading.Event()
        path = self.path

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                where = urlsplit(self.path)
                if where.path != path or arrived.is_set():
                    self.send_error(404)
                    return
                received.update({k: v[0] for k, v in parse_qs(where.query).items()})
                arrived.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(DONE_PAGE)))
                self.end_headers()
                self.wfile.write(DONE_PAGE)

            def log_message(self, *_args: Any) -> None:
                pass

        server = HTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            self.open_browser(url)
            if not arrived.wait(self.timeout):
                raise AuthenticationError("no redirect from the browser in time",
                                          error_code="timeout")
        finally:
            server.shutdown()
            server.server_close()
        return received
