"""The device flow (Salesforce's, RFC 8628's shape): show the user a code and a URL, poll the
token endpoint at the interval the org asks for, slower after each ``slow_down``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from localforce.client.errors import AuthenticationError, oauth_error
from localforce.client.providers import Provided, token_url
from localforce.client.session import Session
from localforce.client.tokens import Token, verify_signature

SLOW_DOWN_SECONDS = 5  # RFC 8628 §3.5


def print_instructions(verification_uri: str, user_code: str) -> None:
    print(f"To log in, open {verification_uri} and enter the code {user_code}", flush=True)


@dataclass
class DeviceFlow:
    login_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scope: str | None = None
    #: Tells the user where to go and what to type; prints it unless told.
    announce: Callable[[str, str], Any] = print_instructions
    sleep: Callable[[float], Any] = time.sleep
    timeout: float = 600.0
    http: httpx.Client | None = None

    def run(self) -> Token:
        http = self.http or httpx.Client(timeout=60)
        try:
            return self._run(http)
        finally:
            if self.http is None:
                http.close()

    def session(self, **kwargs: Any) -> Session:
        return Session(Provided(self.login_url, self.client_id, self.client_secret),
                       token=self.run(), **kwargs)

    def _run(self, http: httpx.Client) -> Token:
        url = token_url(self.login_url)
        start = {"response_type": "device_code", "client_id": self.client_id}
        if self.scope:
            start["scope"] = self.scope
        codes = http.post(url, data=start)
        if codes.status_code != 200:
            raise oauth_error(codes)
        body = codes.json()
        interval = float(body.get("interval") or 5)
        self.announce(body["verification_uri"], body["user_code"])
        poll = {"grant_type": "device", "client_id": self.client_id,
                "code": body["device_code"]}
        if self.client_secret:
            poll["client_secret"] = self.client_secret
        waited = 0.0
        while True:
            if waited >= self.timeout:
                raise AuthenticationError("the device code was not approved in time",
                                          error_code="timeout")
            self.sleep(interval)
            waited += interval
            answer = http.post(url, data=poll)
            if answer.status_code == 200:
                token = Token.from_response(answer.json())
                if self.client_secret:
                    verify_signature(token, self.client_secret)
                return token
            error = oauth_error(answer)
            if error.error_code == "slow_down":
                interval += SLOW_DOWN_SECONDS
            elif error.error_code != "authorization_pending":
                raise error
