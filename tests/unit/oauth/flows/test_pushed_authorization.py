"""PushedAuthorizationEndpoint (RFC 9126) built from fakes: Clients, the authorize
endpoint's checker, the PushedRequests port and a clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from tests.unit.oauth.flows.fakes import APP, NOW, SECRET, Clients, clock, request

from localforce.oauth.artifacts import PushedRequest
from localforce.oauth.endpoints.par import (
    LIFETIME,
    URN,
    InvalidRequestUri,
    PushedAuthorizationEndpoint,
)
from localforce.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    RedirectUriMismatch,
)
from localforce.security.tokens import digest

OTHER = replace(APP, id="0H4000000000002AAA", consumer_key="KEY2")


class Checker:
    def __init__(self, error: OAuthError | None = None) -> None:
        self.error = error
        self.seen: list[dict[str, str]] = []

    def check(self, params: Mapping[str, str]) -> Any:
        self.seen.append(dict(params))
        if self.error is not None:
            raise self.error


class Store:
    def __init__(self) -> None:
        self.saved: dict[str, PushedRequest] = {}
        self.used: set[str] = set()

    def save_pushed(self, pushed: PushedRequest) -> None:
        self.saved[pushed.digest] = pushed

    def consume_pushed(self, key: str, app_id: str, now: int) -> dict[str, str] | None:
        found = self.saved.get(key)
        if (found is None or found.app_id != app_id or key in self.used
                or now >= found.expires_at):
            return None
        self.used.add(key)
        return dict(found.params)


def endpoint(checker: Checker | None = None, store: Store | None = None
             ) -> PushedAuthorizationEndpoint:
    return PushedAuthorizationEndpoint(Clients(APP, OTHER), checker or Checker(),
                                       store or Store(), clock)


def test_a_pushed_request_is_checked_stored_by_digest_and_redeemed_once() -> None:
    checker, store = Checker(), Store()
    par = endpoint(checker, store)
    params = {"response_type": "code", "redirect_uri": "https://cb", "client_secret": SECRET}
    answer = par.push(request(), params)
    assert answer.body() == {"request_uri": answer.request_uri, "expires_in": LIFETIME}
    ref = answer.request_uri.removeprefix(URN)
    stored = {"response_type": "code", "redirect_uri": "https://cb", "client_id": APP.consumer_key}
    assert checker.seen == [stored]  # the secret is never stored
    assert store.saved == {digest(ref): PushedRequest(digest(ref), APP.id,
                                                      tuple(stored.items()), NOW + LIFETIME)}
    query = {"client_id": APP.consumer_key, "request_uri": answer.request_uri}
    with pytest.raises(InvalidRequestUri):
        par.redeem({**query, "client_id": OTHER.consumer_key})
    assert par.redeem(query) == stored
    with pytest.raises(InvalidRequestUri):
        par.redeem(query)


@pytest.mark.parametrize(("secret", "client_id"), [("wrong", APP.consumer_key),
                                                   (None, APP.consumer_key), (SECRET, "NOPE")])
def test_client_authentication_failures_are_invalid_client_401(
        secret: str | None, client_id: str) -> None:
    with pytest.raises(InvalidClient) as refused:
        endpoint().push(request(secret=secret, client_id=client_id), {})
    assert refused.value.status == 401


def test_a_request_uri_in_the_body_and_a_wrong_redirect_uri_are_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        endpoint().push(request(), {"request_uri": URN + "x"})
    with pytest.raises(InvalidRequest) as refused:
        endpoint(Checker(RedirectUriMismatch())).push(request(), {})
    assert refused.value.description == "redirect_uri must match configuration"


def test_the_authorize_endpoints_other_errors_pass_as_they_are() -> None:
    with pytest.raises(InvalidScope):
        endpoint(Checker(InvalidScope())).push(request(), {})
