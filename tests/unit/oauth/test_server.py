"""oauth/server.py: the flow registry dispatches by declared wire names only."""

from __future__ import annotations

from typing import Any

import pytest

from localforce.oauth.errors import UnsupportedGrantType
from localforce.oauth.messages import TokenRequest
from localforce.oauth.server import AuthorizationServer


class Echo:
    def __init__(self, grant_types: tuple[str, ...], response_types: tuple[str, ...] = ()) -> None:
        self.GRANT_TYPES = grant_types
        self.RESPONSE_TYPES = response_types

    def exchange(self, request: TokenRequest) -> Any:
        flow = self

        class Reply:
            def body(self) -> dict[str, Any]:
                return {"flow": flow.GRANT_TYPES[0]}
        return Reply()


def test_dispatch_by_grant_type_and_alias() -> None:
    server = AuthorizationServer([Echo(("urn:ietf:params:oauth:grant-type:device_code",
                                        "device"), ("device_code",)), Echo(("password",))])
    assert server.token(TokenRequest({"grant_type": "device"})).body() == {
        "flow": "urn:ietf:params:oauth:grant-type:device_code"}
    assert server.token(TokenRequest({"grant_type": "password"})).body() == {"flow": "password"}
    assert server.token(TokenRequest({"response_type": "device_code"})).body()["flow"] == (
        "urn:ietf:params:oauth:grant-type:device_code")


def test_unknown_or_missing_grant_type() -> None:
    server = AuthorizationServer([Echo(("password",))])
    for params in ({"grant_type": "nope"}, {}, {"response_type": "code"}):
        with pytest.raises(UnsupportedGrantType):
            server.token(TokenRequest(params))


def test_a_grant_type_registers_once() -> None:
    with pytest.raises(ValueError):
        AuthorizationServer([Echo(("password",)), Echo(("password",))])


def test_a_response_type_registers_once() -> None:
    with pytest.raises(ValueError):
        AuthorizationServer([Echo(("device",), ("device_code",)), Echo((), ("device_code",))])


def test_the_flows_declare_their_wire_names_on_the_class() -> None:
    """Every token-endpoint handler bootstrap registers, with its wire names as class
    constants (what ``Flow``'s ClassVars say), and the registry built from them."""
    from localforce.oauth.endpoints.device_authorization import DeviceAuthorizationEndpoint
    from localforce.oauth.flows import (
        authorization_code,
        client_credentials,
        device_code,
        jwt_bearer,
        password,
        refresh_token,
    )

    classes = [password.PasswordFlow, client_credentials.ClientCredentialsFlow,
               jwt_bearer.JwtBearerFlow, refresh_token.RefreshTokenFlow,
               authorization_code.AuthorizationCodeFlow, device_code.DeviceCodeFlow,
               DeviceAuthorizationEndpoint]
    assert [(c.GRANT_TYPES, c.RESPONSE_TYPES) for c in classes] == [
        (("password",), ()), (("client_credentials",), ()),
        (("urn:ietf:params:oauth:grant-type:jwt-bearer",), ()), (("refresh_token",), ()),
        (("authorization_code",), ()),
        (("urn:ietf:params:oauth:grant-type:device_code", "device"), ()),
        ((), ("device_code",))]
