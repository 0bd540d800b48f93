"""HTTP request -> OAuth parameters: form-urlencoded, multipart, query string, HTTP Basic.

Token-endpoint clients send parameters every which way (salesforce-wire.md §0 C1-C4,
clients.md §0 rows 1-3): urlencoded or multipart bodies (sfdx), chunked bodies (jsforce,
``sf``), the query string of a POST (JWT gists), and client credentials in HTTP Basic
(simple-salesforce, requests-oauthlib, authlib) or in the body. Body values win over
query-string values; unknown parameters are carried and ignored by the flows.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote, unquote_plus

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from localforce.oauth.client_assertion import claimed_client_id
from localforce.oauth.errors import InvalidRequest
from localforce.oauth.messages import TokenRequest
from localforce.web.clientip import client_ip

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def params(request: Request) -> dict[str, str]:
    """Query-string parameters overlaid with the form body's (files ignored)."""
    out = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type in _FORM_TYPES:
        async with request.form() as form:
            for key, value in form.multi_items():
                if not isinstance(value, UploadFile):
                    out[key] = value
    return out


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic base64(id:secret)`` -> (id, secret). RFC 6749 §2.3.1 has both
    parts form-encoded first; percent-decoding accepts that and the unencoded usual case."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


async def token_request(request: Request) -> TokenRequest:
    try:
        values = await params(request)
    except HTTPException as exc:  # a body Starlette's form parser refuses (>1000 fields...)
        raise InvalidRequest(str(exc.detail)) from None
    proofs = request.headers.getlist("dpop")
    return make_token_request(values, request.headers.get("authorization"),
                              client_ip(request), str(request.url.replace(query="")),
                              dpop=(proofs[0] if len(proofs) == 1 else "") if proofs else None)


def make_token_request(values: dict[str, str], authorization: str | None,
                       address: str | None, url: str, dpop: str | None = None) -> TokenRequest:
    """The parameters, with the client's credentials from HTTP Basic or else from the body."""
    basic = basic_credentials(authorization)
    client_id: str | None
    secret: str | None
    if basic is not None:
        client_id, secret = basic
    else:
        client_id, secret = values.get("client_id") or None, values.get("client_secret") or None
        if client_id is None and "client_assertion" in values:  # RFC 7523 §3: optional
            client_id = claimed_client_id(values["client_assertion"])
    return TokenRequest(values, client_id, secret, basic is not None, address, url, dpop)


#: Starlette's form parser refuses more fields than this (a 400).
MAX_FIELDS = 1000


def too_many_fields() -> InvalidRequest:
    """What ``token_request`` answers for a body with more than ``MAX_FIELDS`` fields."""
    return InvalidRequest(f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")


def urlencoded(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, parsed as Starlette's form parser does
    (python-multipart's querystring parser, non-strict): fields split on ``&``, empty ones
    skipped, each name and value split at the first ``=`` (none: an empty value), latin-1 then
    percent-decoded, the last of a repeated name kept. The lean dispatcher has the whole body
    already, so it is split here in one pass (tests/web/test_forms.py holds the two parsers to
    the same answers)."""
    out: dict[str, str] = {}
    fields = 0
    for field in body.split(b"&"):
        if not field:
            continue
        fields += 1
        if fields > MAX_FIELDS:
            raise too_many_fields()
        name, _, value = field.partition(b"=")
        out[unquote_plus(name.decode("latin-1"))] = unquote_plus(value.decode("latin-1"))
    return out
