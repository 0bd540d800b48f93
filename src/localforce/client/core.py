"""The one core the sync and async sessions share, written without I/O.

Each operation is a generator that yields what it needs — an ``httpx.Request`` to send, or
``NeedToken`` (the current token, or a fresh one in place of a stale one) — and receives the
answer; its return value is the result. ``session.Session`` and ``session.AsyncSession`` only
drive these generators, each with its own lock for the single-flight refresh.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from localforce.client.errors import InvalidSession, from_response, oauth_error
from localforce.client.providers import TokenProvider, refresh_form, token_url
from localforce.client.tokens import Token, verify_signature

DEFAULT_VERSION = "62.0"


@dataclass(frozen=True)
class NeedToken:
    """Ask the driver for the token: the current one (``stale`` None), or one newer than
    ``stale`` (which the server just refused)."""

    stale: Token | None = None


Step = httpx.Request | NeedToken
Flow = Generator[Step, Any, Any]


def fetch_token(provider: TokenProvider, current: Token | None) -> Flow:
    """A new token: by the refresh token when there is one, else by the provider's grant.
    Raises ``AuthenticationError`` (never retries: a revoked refresh token is final)."""
    form = refresh_form(provider, current.refresh_token) if current and current.refresh_token \
        else provider.grant()
    response: httpx.Response = yield httpx.Request(
        "POST", token_url(provider.login_url), data=form, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise oauth_error(response)
    token = Token.from_response(response.json(), refresh_token=form.get("refresh_token"))
    if provider.client_secret:
        verify_signature(token, provider.client_secret)
    return token


def token_grant(provider: TokenProvider, form: dict[str, str]) -> Flow:
    """One token request with ``form``; the checked token (browser and device flows)."""
    response: httpx.Response = yield httpx.Request(
        "POST", token_url(provider.login_url), data=form, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise oauth_error(response)
    token = Token.from_response(response.json())
    if provider.client_secret:
        verify_signature(token, provider.client_secret)
    return token


def revoke_token(provider: TokenProvider, token: Token) -> Flow:
    """Revoke the refresh token (and with it its sessions), else the access token."""
    response: httpx.Response = yield httpx.Request(
        "POST", provider.login_url.rstrip("/") + "/services/oauth2/revoke",
        data={"token": token.refresh_token or token.access_token})
    if response.status_code != 200:
        raise oauth_error(response)


def parse_limit_info(header: str | None) -> dict[str, tuple[int, int]]:
    """``Sforce-Limit-Info: api-usage=18/15000`` -> ``{"api-usage": (18, 15000)}``."""
    found: dict[str, tuple[int, int]] = {}
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        used, _, limit = value.partition("/")
        if name and used.isdigit() and limit.isdigit():
            found[name] = (int(used), int(limit))
    return found


class Core:
    """What both sessions know: the provider, the API version, and how to build and judge
    each request."""

    def __init__(self, provider: TokenProvider, version: str = DEFAULT_VERSION) -> None:
        self.provider = provider
        self.version = version.lstrip("v")
        self.limit_info: dict[str, tuple[int, int]] = {}

    # -- requests ------------------------------------------------------------------------

    def url(self, token: Token, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith("/"):
            path = f"/services/data/v{self.version}/{path}"
        return token.instance_url + path

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | None = None, ok: tuple[int, ...] = ()) -> Flow:
        """Send one authorized request; on 401 get a token newer than the refused one (the
        driver refreshes at most once for all callers) and send it again, once."""
        token: Token = yield NeedToken()
        response = yield self._request(token, method, path, json, params)
        if response.status_code == 401:
            token = yield NeedToken(stale=token)
            response = yield self._request(token, method, path, json, params)
        self.limit_info = parse_limit_info(response.headers.get("sforce-limit-info")) \
            or self.limit_info
        if response.status_code >= 300 and response.status_code not in ok:
            error = from_response(response)
            if response.status_code == 401:
                raise InvalidSession(error.message, status=401, error_code=error.error_code,
                                     request_id=error.request_id, errors=error.errors,
                                     response=response)
            raise error
        return response

    def _request(self, token: Token, method: str, path: str, json: Any,
                 params: dict[str, Any] | None) -> httpx.Request:
        headers = {"Authorization": f"Bearer {token.access_token}",
                   "Accept": "application/json"}
        return httpx.Request(method, self.url(token, path), json=json, params=params,
                             headers=headers)

    # -- the API -------------------------------------------------------------------------

    def json_call(self, method: str, path: str, **kw: Any) -> Flow:
        response = yield from self.call(method, path, **kw)
        return response.json() if response.content else None

    def identity(self) -> Flow:
        """The identity URL's answer (``id`` of the token response): user, org, names."""
        token: Token = yield NeedToken()
        if not token.id:
            raise ValueError("the token response had no identity URL (id)")
        return (yield from self.json_call("GET", token.id))

    def query_page(self, soql: str | None, next_url: str | None, all_rows: bool) -> Flow:
        if next_url:
            return (yield from self.json_call("GET", next_url))
        return (yield from self.json_call("GET", "queryAll" if all_rows else "query",
                                          params={"q": soql}))

    def sobject(self, name: str, *rest: str) -> str:
        return "/".join(["sobjects", quote(name, safe=""), *(quote(r, safe="") for r in rest)])

    def get(self, sobject: str, record_id: str, fields: list[str] | None = None) -> Flow:
        params = {"fields": ",".join(fields)} if fields else None
        return (yield from self.json_call("GET", self.sobject(sobject, record_id),
                                          params=params))

    def create(self, sobject: str, values: dict[str, Any]) -> Flow:
        body = yield from self.json_call("POST", self.sobject(sobject), json=values)
        return str(body["id"])

    def update(self, sobject: str, record_id: str, values: dict[str, Any]) -> Flow:
        yield from self.call("PATCH", self.sobject(sobject, record_id), json=values)

    def upsert(self, sobject: str, field: str, value: str, values: dict[str, Any]) -> Flow:
        """``{"id": ..., "created": bool}`` (Salesforce answers 201 with a body, or 204/200)."""
        response = yield from self.call("PATCH", self.sobject(sobject, field, value),
                                        json=values)
        body = response.json() if response.content else {}
        return {"id": body.get("id"), "created": response.status_code == 201, **body}

    def delete(self, sobject: str, record_id: str) -> Flow:
        yield from self.call("DELETE", self.sobject(sobject, record_id))

    def describe(self, sobject: str | None) -> Flow:
        path = self.sobject(sobject, "describe") if sobject else "sobjects"
        return (yield from self.json_call("GET", path))

    def collections(self, method: str, records: list[dict[str, Any]] | None = None,
                    ids: list[str] | None = None, all_or_none: bool = False) -> Flow:
        """sObject Collections: create (POST), update (PATCH), upsert is not here; delete
        (DELETE with ``ids``). Answers the per-record result list."""
        if method == "DELETE":
            params = {"ids": ",".join(ids or []), "allOrNone": str(all_or_none).lower()}
            return (yield from self.json_call("DELETE", "composite/sobjects", params=params))
        return (yield from self.json_call(method, "composite/sobjects",
                                          json={"allOrNone": all_or_none,
                                                "records": records or []}))

    def composite(self, subrequests: list[dict[str, Any]], all_or_none: bool = False) -> Flow:
        """The composite resource; each subrequest ``{"method", "url", "referenceId",
        "body"?}``. Answers ``compositeResponse``."""
        body = yield from self.json_call("POST", "composite", json={
            "allOrNone": all_or_none, "compositeRequest": subrequests})
        return body["compositeResponse"]
