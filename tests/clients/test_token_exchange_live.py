"""Token exchange (RFC 8693) against a real ``localforce serve``, with authlib's httpx
OAuth2Client as the requesting app and as the audience: two apps made with ``localforce apps
create`` as an admin would, a user's token traded for the downstream app's, the new token
introspected by the downstream app (its ``act``, its scopes only) and used on the data API;
a scope the downstream app lacks and a revoked subject token are refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


def create_app(server: LiveServer, name: str, *options: str) -> tuple[str, str]:
    """``localforce apps create NAME OPTIONS --json`` on the server's home: (key, secret)."""
    done = subprocess.run(
        [sys.executable, "-m", "localforce.cli.main", "apps", "create", name, *options,
         "--json"], env=server.env(LOCALFORCE_HOME=str(server.home)), capture_output=True,
        text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    return created["consumer_key"], created["consumer_secret"]


def test_token_exchange_with_authlib(live_server_http: LiveServer) -> None:
    server = live_server_http
    token_url = f"{server.url}/services/oauth2/token"
    introspect_url = f"{server.url}/services/oauth2/introspect"
    key, secret = create_app(server, "Exchanger", "--allow-token-exchange",
                             "--scope", "api", "--scope", "web")
    down_key, down_secret = create_app(server, "Downstream", "--scope", "api",
                                       "--scope", "id")
    with OAuth2Client(key, secret, trust_env=False, timeout=30) as client:
        user = client.fetch_token(token_url, grant_type="password", username=server.username,
                                  password=server.password + server.security_token)
        subject = user["access_token"]
        exchanged = client.fetch_token(token_url, grant_type=EXCHANGE, subject_token=subject,
                                       subject_token_type=ACCESS, audience=down_key,
                                       scope="api")
        assert exchanged["issued_token_type"] == ACCESS
        assert exchanged["token_type"] == "Bearer" and exchanged["scope"] == "api"
        assert "refresh_token" not in exchanged and "id_token" not in exchanged
        # "web" is the requester's and the subject's, not the downstream app's.
        with pytest.raises(OAuthError) as beyond:
            client.fetch_token(token_url, grant_type=EXCHANGE, subject_token=subject,
                               subject_token_type=ACCESS, audience=down_key, scope="api web")
        assert beyond.value.error == "invalid_scope"

    with OAuth2Client(down_key, down_secret, trust_env=False, timeout=30) as downstream:
        seen = downstream.introspect_token(introspect_url, token=exchanged["access_token"])
    assert seen.status_code == 200
    body = seen.json()
    assert body["active"] is True and body["client_id"] == down_key
    assert body["act"] == {"client_id": key} and body["scope"] == "api"
    assert body["username"] == server.username

    with server.http() as http:
        used = http.get("/services/data/v62.0/limits",
                        headers={"Authorization": f"Bearer {exchanged['access_token']}"})
        assert used.status_code == 200, used.text
        assert http.post("/services/oauth2/revoke", data={"token": subject}).status_code == 200
    with OAuth2Client(key, secret, trust_env=False, timeout=30) as client, \
            pytest.raises(OAuthError) as revoked:
        client.fetch_token(token_url, grant_type=EXCHANGE, subject_token=subject,
                           subject_token_type=ACCESS, audience=down_key)
    assert revoked.value.error == "invalid_grant"
