"""Logs never carry a secret: a real ``localforce serve`` is driven through every flow —
password, client credentials, JWT bearer, web server + PKCE, refresh, SOAP login, failed
logins, revoke and identity calls with tokens in the query string — and then its whole output
is searched for every password, secret, token, code, verifier and assertion it saw."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from tests.clients.server import LiveServer, stop_server
from tests.flows.browser_forms import AUTHORIZE, code_from, log_in, submit
from tests.policies.servers import start

WRONG_PASSWORD = "Wrong-Pass-" + secrets.token_hex(6)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("secrecy")
    live = start(root / "server", root / "own" / "home")
    yield live
    stop_server(live)


def token(client: httpx.Client, **form: str) -> dict[str, str]:
    response = client.post("/services/oauth2/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def web_server_flow(s: LiveServer, client: httpx.Client, seen: list[str]) -> dict[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    page = client.get(AUTHORIZE, params={
        "response_type": "code", "client_id": s.consumer_key, "redirect_uri": s.callback,
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"})
    step = log_in(client, page, s.username, s.password)
    if step.status_code == 200:
        step = submit(client, step.text, button=("_action", "allow"))
    code = code_from(step.headers["location"])
    seen += [verifier, code]
    return token(client, grant_type="authorization_code", code=code, client_id=s.consumer_key,
                 client_secret=s.consumer_secret, redirect_uri=s.callback,
                 code_verifier=verifier)


def jwt_assertion(s: LiveServer) -> str:
    key = RSAKey.import_key(s.jwt_key.read_bytes())
    claims = {"iss": s.consumer_key, "sub": s.username, "aud": s.url,
              "exp": int(time.time()) + 120}
    return jwt.encode({"alg": "RS256"}, claims, key)


def soap_login(client: httpx.Client, s: LiveServer, password: str) -> str:
    envelope = ('<?xml version="1.0" encoding="utf-8"?><env:Envelope '
                'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:n1="urn:partner.soap.sforce.com"><env:Body><n1:login>'
                f'<n1:username>{s.username}</n1:username><n1:password>{password}'
                '</n1:password></n1:login></env:Body></env:Envelope>')
    response = client.post("/services/Soap/u/59.0", content=envelope,
                           headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    return response.text.split("<sessionId>")[1].split("<")[0] if "<sessionId>" in response.text \
        else ""


def test_no_secret_reaches_the_log(server: LiveServer) -> None:
    s = server
    seen = [s.password, s.security_token, s.password + s.security_token, s.consumer_secret,
            WRONG_PASSWORD]
    with s.http() as client:
        issued = [
            token(client, grant_type="password", client_id=s.consumer_key,
                  client_secret=s.consumer_secret, username=s.username,
                  password=s.password + s.security_token),
            token(client, grant_type="client_credentials", client_id=s.consumer_key,
                  client_secret=s.consumer_secret),
        ]
        assertion = jwt_assertion(s)
        seen.append(assertion)
        issued.append(token(client, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
                            assertion=assertion))
        issued.append(web_server_flow(s, client, seen))
        refresh_token = issued[-1]["refresh_token"]
        issued.append(token(client, grant_type="refresh_token", refresh_token=refresh_token,
                            client_id=s.consumer_key, client_secret=s.consumer_secret))
        session = soap_login(client, s, s.password + s.security_token)
        assert session
        seen.append(session)
        # Failures, with the attempted secrets in the request.
        client.post("/services/oauth2/token", data={
            "grant_type": "password", "client_id": s.consumer_key,
            "client_secret": s.consumer_secret, "username": s.username,
            "password": WRONG_PASSWORD})
        soap_login(client, s, WRONG_PASSWORD)
        client.post("/services/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": s.consumer_key,
            "client_secret": WRONG_PASSWORD})
        # Tokens in URLs and headers.
        first, second = issued[0]["access_token"], issued[1]["access_token"]
        client.get(f"/id/{s.org_id}/x", params={"oauth_token": second})
        client.get("/services/oauth2/userinfo", headers={"Authorization": f"Bearer {first}"})
        client.get("/services/data/v59.0/limits",
                   headers={"Authorization": f"Bearer {issued[3]['access_token']}"})
        client.post("/services/oauth2/introspect", data={
            "token": issued[2]["access_token"], "client_id": s.consumer_key,
            "client_secret": s.consumer_secret})
        client.get("/services/oauth2/revoke", params={"token": first})
        client.get("/services/oauth2/revoke", params={"token": refresh_token})
    for reply in issued:
        seen += [v for k, v in reply.items() if k in ("access_token", "refresh_token",
                                                      "id_token", "signature")]
    stop_server(s)  # everything it wrote is in the file now
    log = s.output()
    access = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "request" and e.get("path") == "/services/oauth2/token"
               for e in access)  # our access log is there, a JSON object per line
    assert "uvicorn.access" not in log  # uvicorn's, with query strings, is not
    leaked = [value for value in seen if value and value in log]
    assert leaked == []
