"""``/services/data/vNN.0/…``: the REST data API's routes (salesforce-wire.md §6).

Thin: each route reads the path, query and JSON body, makes one call on ``services.data`` and
renders the result. Every call is authenticated (``web.auth.authenticate``), counted for
``Sforce-Limit-Info`` and answered with ``application/json;charset=UTF-8`` (204s are empty).
Paths work with and without a trailing slash (simple-salesforce adds one, clients.md §1).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import gzip
import json
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from localforce import commits
from localforce.bootstrap import Services
from localforce.data.bulk.ingest import JobResource
from localforce.data.errors import ApiError, BadRequest, NotFound, UnsupportedMediaType
from localforce.data.query import batch_size
from localforce.data.values import is_true, wire_to_epoch
from localforce.data.versions import LATEST, is_supported
from localforce.domain.principal import Principal
from localforce.limits.allocation import AllocationSpent
from localforce.web import threads
from localforce.web.apiusage import PRINCIPAL_KEY
from localforce.web.auth import authenticate, header
from localforce.web.errors import SalesforceJSON, api_error_response
from localforce.web.requestsize import MAX_DATA_BODY, bodiless, read_body

LIMIT_HEADER = "Sforce-Limit-Info"
_LIMIT_KEY = LIMIT_HEADER.lower().encode("latin-1")


@dataclass
class Call:
    request: Request
    principal: Principal
    version: str
    body: Any
    #: The query string's parameters, once a handler asks for one.
    _params: Mapping[str, str] | None = field(default=None, init=False, repr=False)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        params = self._params
        if params is None:
            raw = self.request.scope["query_string"]
            params = self._params = _query_params(raw) if len(raw) <= 2048 else \
                self.request.query_params
        return params.get(name)


@functools.lru_cache(maxsize=512)  # the same queries again and again; short ones only
def _query_params(raw: bytes) -> Mapping[str, str]:
    """What ``Request.query_params.get`` answers (a name's last value), parsed once per
    query string (read-only: every caller shares it)."""
    return MappingProxyType(dict(QueryParams(raw)))


Handler = Callable[[Services, Call], Response]


def _principal(services: Services, request: Request) -> Principal:
    """The one place the data API learns who is calling (left in the request state for the
    API usage log, web/apiusage.py)."""
    principal = authenticate(services, request)
    request.scope.setdefault("state", {})[PRINCIPAL_KEY] = principal  # request.state.principal
    return principal


def _version(scope: Scope) -> str:
    return _version_of(str(scope["path_params"]["version"]))


@functools.lru_cache(maxsize=64)  # the same few on every call (an unknown one is not kept)
def _version_of(raw: str) -> str:
    if raw == "latest":
        return f"{LATEST}.0"
    if not raw.startswith("v") or not is_supported(raw[1:]):
        raise NotFound()
    return raw[1:]


JSON_TYPES = ("application/json", "text/json")
#: ``\uD800``-``\uDFFF`` escapes: the only way a body decodes to an unencodable string.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _json(request: Request, raw: bytes) -> Any:
    if not raw.strip():
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in JSON_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"MediaType of '{media_type}' is not supported by this resource")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        if _SURROGATE_ESCAPE.search(raw):
            # A lone surrogate (\ud800) decodes but can be neither stored nor answered.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        raise BadRequest("JSON_PARSER_ERROR", "Invalid UTF-8 in the request body") from None
    except RecursionError:
        raise BadRequest("JSON_PARSER_ERROR", "The request body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadRequest("JSON_PARSER_ERROR", f"Unexpected character: {exc.msg} at "
                         f"[line:{exc.lineno}, column:{exc.colno}]") from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise BadRequest("JSON_PARSER_ERROR", "Numeric value out of range in the request "
                         "body") from None
    return body


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259 §6)."""
    raise BadRequest("JSON_PARSER_ERROR", f"Unexpected character: Non-standard token "
                     f"'{name}' is not allowed in JSON")


#: Bodies this long or longer are gzipped for a client that accepts it; smaller ones gain
#: little. A compressed request body may inflate to at most ``MAX_INFLATED`` bytes.
MIN_GZIP = 1024
MAX_INFLATED = 64 * 1024 * 1024


def _inflated(request: Request, raw: bytes) -> bytes:
    """The body as sent before ``Content-Encoding: gzip`` (or ``deflate``) was applied."""
    if not raw:  # a GET's (its headers are not even looked at)
        return raw
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(f"Content-Encoding '{coding}' is not supported")
    inflater = zlib.decompressobj(wbits=47 if coding != "deflate" else 15)  # 47: gzip/zlib
    try:
        out = inflater.decompress(raw, MAX_INFLATED)
    except zlib.error:
        raise BadRequest("JSON_PARSER_ERROR", f"The request body is not valid {coding} "
                         "data") from None
    if inflater.unconsumed_tail:
        raise BadRequest("JSON_PARSER_ERROR", "The request body inflates to more than "
                         f"{MAX_INFLATED // (1024 * 1024)} MB")
    return out


def _compressed(request: Request, response: Response) -> Response:
    """The answer gzipped when the client accepts gzip and it is worth it."""
    body = getattr(response, "body", b"")
    if len(body) < MIN_GZIP:
        return response
    accepts = request.headers.get("accept-encoding", "").lower()
    if ("gzip" not in accepts or "gzip;q=0" in accepts.replace(" ", "")
            or "content-encoding" in response.headers):
        return response
    packed = gzip.compress(body, compresslevel=5)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(packed, status_code=response.status_code, headers=headers)


class BodyStream:
    """A request body a handler reads in chunks from its worker thread, as the client sends
    it (inflated when ``Content-Encoding`` says so): a Bulk upload is never held whole."""

    def __init__(self, request: Request, loop: asyncio.AbstractEventLoop) -> None:
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        self._loop = loop
        coding = request.headers.get("content-encoding", "").strip().lower()
        if coding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise UnsupportedMediaType(f"Content-Encoding '{coding}' is not supported")
        self._inflater = None if coding in ("", "identity") else zlib.decompressobj(
            wbits=47 if coding != "deflate" else 15)

    async def _next(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()
               ) is not None:
            if self._inflater is None:
                yield chunk
                continue
            try:
                out = self._inflater.decompress(chunk, MIN_STREAM_PIECE)
                while out:
                    yield out
                    out = self._inflater.decompress(self._inflater.unconsumed_tail,
                                                    MIN_STREAM_PIECE)
            except zlib.error:
                raise BadRequest("CLIENTINPUTERROR", "The request body is not valid "
                                 "compressed data") from None


#: A streamed body is inflated at most this many bytes at a time.
MIN_STREAM_PIECE = 1024 * 1024


def endpoint(services: Services, handler: Handler, streamed: frozenset[str] = frozenset(),
             inline: bool = False) -> Callable[[Request], Any]:
    """``streamed``: the methods whose handler reads the body itself (a ``BodyStream``).
    ``inline``: GET calls are tried on the event loop (web/threads.py ``on_loop``); calls of
    other methods run on the write threads. Where their reads run apart (PostgreSQL), a GET
    like an earlier one (the same path, query and credentials) has that one's read made at
    once (``on_loop``'s ``like``)."""
    # Only where a read can wait (PostgreSQL) is it run apart; on SQLite none ever is.
    apart = not services.reads_never_wait
    guesses = threads.Guesses() if inline and apart else None

    async def run(request: Request) -> Response:
        usage: list[str] = []  # the Sforce-Limit-Info value, once the call is counted
        scope = request.scope
        method = scope["method"]
        # Asked only for a streamed body (each ask is a ``getpid`` system call).
        loop = asyncio.get_running_loop() if method in streamed else None

        def call(raw: bytes) -> Response:
            principal = commits.kept(_principal, _principal, services, request)
            if not usage:  # counted once, also when a call on the loop runs again on a thread
                usage.append(services.limits.allocation.consume(principal.org_id).header())
            body = BodyStream(request, loop) if loop is not None else \
                _json(request, _inflated(request, raw))
            return handler(services, Call(request, principal, version, body))

        try:
            version = _version(scope)
            # The body is read here but parsed after authentication: a caller without a valid
            # session learns nothing about what the body should have been.
            raw = b"" if method in streamed or bodiless(scope) else \
                await read_body(request, MAX_DATA_BODY)
            if method in READS:
                like = None if guesses is None else (guesses, hash((
                    scope["path"], scope["query_string"], header(scope, b"authorization"))))
                response = await threads.on_loop(inline, call, raw, apart=apart, like=like)
            else:
                response = await threads.write(call, raw)
        except AllocationSpent as exc:
            response, usage[:] = api_error_response(exc), [exc.usage.header()]
        except ApiError as exc:
            response = api_error_response(exc)
        if usage:  # appended as ``response.headers[...] =`` would (no handler sets it)
            response.raw_headers.append((_LIMIT_KEY, usage[-1].encode("latin-1")))
        return response

    return run


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return SalesforceJSON(body, status_code=status, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


# -- handlers ----------------------------------------------------------------------------


def resources(s: Services, c: Call) -> Response:
    v = f"/services/data/v{c.version}"
    names = ("sobjects", "query", "queryAll", "limits", "composite", "search", "recent",
             "tooling", "connect", "chatter", "metadata", "analytics", "tabs", "theme")
    out = {name: f"{v}/{name}" for name in names}
    base = s.settings.effective_public_url
    out["identity"] = f"{base}/id/{c.principal.org_id}/{c.principal.user_id}"
    return ok(dict(sorted(out.items())))


def describe_global(s: Services, c: Call) -> Response:
    return ok(s.data.describe_global(c.principal, c.version))


def create(s: Services, c: Call) -> Response:
    result = s.data.records.create(c.principal, c.param("sobject"), c.body)
    obj = s.data.records.object(c.principal, c.param("sobject"))
    location = f"/services/data/v{c.version}/sobjects/{obj.name}/{result.id}"
    return ok(result.body(), 201, {"Location": location})


def basic_info(s: Services, c: Call) -> Response:
    return ok(s.data.basic_info(c.principal, c.param("sobject"), c.version))


def _not_modified(c: Call, modified: Callable[[], float | None]) -> bool:
    """``If-Modified-Since``: true when the resource has not changed since that time (HTTP
    dates have whole seconds; a changed time we cannot tell is a change)."""
    header = c.request.headers.get("if-modified-since")
    if not header:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # RFC 9110 §13.1.3: an invalid date is ignored
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    when = modified()
    return when is not None and int(when) <= since.timestamp()


def describe(s: Services, c: Call) -> Response:
    if _not_modified(c, lambda: s.data.describe_modified(c.principal, c.param("sobject"))):
        return Response(status_code=304)
    return ok(s.data.describe(c.principal, c.param("sobject"), c.version))


def retrieve(s: Services, c: Call) -> Response:
    def modified() -> float | None:
        stamp = s.data.records.last_modified(c.principal, c.param("sobject"), c.param("id"))
        return None if stamp is None else wire_to_epoch(stamp)

    if _not_modified(c, modified):
        return Response(status_code=304)
    return ok(s.data.records.retrieve(c.principal, c.param("sobject"), c.param("id"), c.version,
                                      c.query("fields")))


def update(s: Services, c: Call) -> Response:
    s.data.records.update(c.principal, c.param("sobject"), c.param("id"), c.body)
    return no_content()


def delete(s: Services, c: Call) -> Response:
    s.data.records.delete(c.principal, c.param("sobject"), c.param("id"))
    return no_content()


def by_external_id(s: Services, c: Call) -> Response:
    """Also ``/sobjects/Attachment/{id}/Body``: a blob field of a record, as bytes."""
    blob = s.data.records.blob(c.principal, c.param("sobject"), c.param("field"),
                               c.param("value"))
    if blob is not None:
        return Response(blob[0], media_type=blob[1])
    return ok(s.data.records.by_external_id(c.principal, c.param("sobject"), c.param("field"),
                                            c.param("value"), c.version, c.query("fields")))


def upsert(s: Services, c: Call) -> Response:
    sobject = c.param("sobject")
    result = s.data.records.upsert(c.principal, sobject, c.param("field"), c.param("value"),
                                   c.body, c.version, update_only=is_true(c.query("updateOnly")))
    location = f"/services/data/v{c.version}/sobjects/{sobject}/{result.id}"
    return ok(result.body(upsert=True), 201 if result.created else 200, {"Location": location})


def query(s: Services, c: Call, query_all: bool = False) -> Response:
    soql = c.query("q")
    if soql is None:
        raise BadRequest("MALFORMED_QUERY", "A query string has to be specified")
    if is_true(c.query("columns")):  # sf data query's column layout
        return ok(s.data.queries.columns(c.principal, soql, query_all))
    batch = batch_size(header(c.request.scope, b"sforce-query-options"))
    return ok(s.data.queries.query(c.principal, soql, c.version, query_all, batch))


def tooling_query(s: Services, c: Call) -> Response:
    return ok(s.data.queries.tooling_query(c.principal, c.query("q") or ""))


def tooling_other(s: Services, c: Call) -> Response:
    raise NotFound()


def query_more(s: Services, c: Call) -> Response:
    return ok(s.data.queries.more(c.principal, c.param("locator"), c.version))


def limits(s: Services, c: Call) -> Response:
    usage = s.limits.allocation.usage(c.principal.org_id)
    body = s.data.limits(c.principal, usage.limits_entry())
    body.update(s.bulk.ingest.allocations(c.principal.org_id))
    return ok(body)


def collections_create(s: Services, c: Call) -> Response:
    return ok(s.data.collections.create(c.principal, c.body))


def collections_update(s: Services, c: Call) -> Response:
    return ok(s.data.collections.update(c.principal, c.body))


def collections_delete(s: Services, c: Call) -> Response:
    all_or_none = is_true(c.query("allOrNone"))
    return ok(s.data.collections.delete(c.principal, c.query("ids") or "", all_or_none,
                                        lambda i: s.data.sobject_of(c.principal.org_id, i)))


def collection_get(s: Services, c: Call) -> Response:
    body = {"ids": (c.query("ids") or "").split(","),
            "fields": (c.query("fields") or "").split(",")}
    return ok(s.data.collections.retrieve(c.principal, c.param("sobject"), body, c.version))


def collection_post(s: Services, c: Call) -> Response:
    return ok(s.data.collections.retrieve(c.principal, c.param("sobject"), c.body, c.version))


def collection_upsert(s: Services, c: Call) -> Response:
    return ok(s.data.collections.upsert(c.principal, c.param("sobject"), c.param("field"),
                                        c.body, c.version))


def composite(s: Services, c: Call) -> Response:
    return ok(s.data.composite(c.principal, c.body, c.version))


def search(s: Services, c: Call) -> Response:
    sosl = c.query("q")
    if not sosl:
        raise BadRequest("MALFORMED_SEARCH", "No search term found. The search term must be "
                         "enclosed in braces.")
    return ok(s.data.search.search(c.principal, sosl, c.version))


def parameterized_search(s: Services, c: Call) -> Response:
    if c.request.method == "POST":
        if not isinstance(c.body, dict):
            raise BadRequest("JSON_PARSER_ERROR", "The request body must be a JSON object")
        params: dict[str, Any] = c.body
    else:
        params = dict(c.request.query_params)
    return ok(s.data.search.parameterized(c.principal, params, c.version))


def updated(s: Services, c: Call) -> Response:
    return ok(s.data.replication.updated(c.principal, c.param("sobject"), c.query("start"),
                                         c.query("end")))


def deleted(s: Services, c: Call) -> Response:
    return ok(s.data.replication.deleted(c.principal, c.param("sobject"), c.query("start"),
                                         c.query("end")))


def record_count(s: Services, c: Call) -> Response:
    return ok(s.data.replication.record_count(c.principal, c.query("sObjects")))


def composite_tree(s: Services, c: Call) -> Response:
    status, body = s.data.tree(c.principal, c.param("sobject"), c.body)
    return ok(body, status)


def composite_graph(s: Services, c: Call) -> Response:
    return ok(s.data.graph(c.principal, c.body, c.version))


def composite_batch(s: Services, c: Call) -> Response:
    return ok(s.data.batch(c.principal, c.body))


def query_all(s: Services, c: Call) -> Response:
    return query(s, c, True)


# -- Bulk API 2.0 (data/bulk/) -------------------------------------------------------------


def _jobs(s: Services, c: Call) -> JobResource:
    """``/jobs/ingest/…`` or ``/jobs/query/…``."""
    return s.bulk.query if "/jobs/query" in c.request.url.path else s.bulk.ingest


def job_create(s: Services, c: Call) -> Response:
    return ok(_jobs(s, c).create(c.principal, c.body, c.version))  # type: ignore[attr-defined]


def job_list(s: Services, c: Call) -> Response:
    return ok(_jobs(s, c).list(c.principal, c.request.query_params, c.version))


def job_info(s: Services, c: Call) -> Response:
    return ok(_jobs(s, c).info(c.principal, c.param("job")))


def job_delete(s: Services, c: Call) -> Response:
    _jobs(s, c).delete(c.principal, c.param("job"))
    return no_content()


def ingest_state(s: Services, c: Call) -> Response:
    return ok(s.bulk.ingest.set_state(c.principal, c.param("job"), c.body))


def ingest_upload(s: Services, c: Call) -> Response:
    s.bulk.ingest.upload(c.principal, c.param("job"), c.body)
    return Response(status_code=201)


def _csv(chunks: Iterator[bytes], headers: dict[str, str] | None = None) -> Response:
    return StreamingResponse(chunks, media_type="text/csv", headers=headers)


def ingest_results(which: str) -> Handler:
    def results(s: Services, c: Call) -> Response:
        return _csv(s.bulk.ingest.results(c.principal, c.param("job"), which))

    return results


def query_job_abort(s: Services, c: Call) -> Response:
    return ok(s.bulk.query.abort(c.principal, c.param("job"), c.body))


def query_job_results(s: Services, c: Call) -> Response:
    chunks, headers = s.bulk.query.results(c.principal, c.param("job"), c.query("locator"),
                                           c.query("maxRecords"))
    return _csv(chunks, headers)


Methods = dict[str, Handler]

# Every route names each method it answers and the one handler for it: nothing is inferred
# from "not GET", so a HEAD (Starlette answers it for every GET route) or an unlisted method
# can never reach a handler that writes. HEAD runs the GET handler and drops the body.
TABLE: list[tuple[str, Methods]] = [
    ("", {"GET": resources}),
    ("/sobjects", {"GET": describe_global}),
    ("/sobjects/{sobject}", {"GET": basic_info, "POST": create}),
    ("/sobjects/{sobject}/describe", {"GET": describe}),
    ("/sobjects/{sobject}/updated", {"GET": updated}),
    ("/sobjects/{sobject}/deleted", {"GET": deleted}),
    ("/sobjects/{sobject}/{id}", {"GET": retrieve, "PATCH": update, "DELETE": delete}),
    ("/sobjects/{sobject}/{field}/{value}", {"GET": by_external_id, "PATCH": upsert}),
    ("/query", {"GET": query}),
    ("/queryAll", {"GET": query_all}),
    ("/query/{locator}", {"GET": query_more}),
    ("/tooling/query", {"GET": tooling_query}),
    ("/tooling/{rest:path}", dict.fromkeys(("GET", "POST", "PATCH", "DELETE"), tooling_other)),
    ("/queryAll/{locator}", {"GET": query_more}),
    ("/limits", {"GET": limits}),
    ("/limits/recordCount", {"GET": record_count}),
    ("/search", {"GET": search}),
    ("/parameterizedSearch", {"GET": parameterized_search, "POST": parameterized_search}),
    ("/composite", {"POST": composite}),
    ("/composite/tree/{sobject}", {"POST": composite_tree}),
    ("/composite/graph", {"POST": composite_graph}),
    ("/composite/batch", {"POST": composite_batch}),
    ("/composite/sobjects", {"POST": collections_create, "PATCH": collections_update,
                             "DELETE": collections_delete}),
    ("/composite/sobjects/{sobject}", {"GET": collection_get, "POST": collection_post}),
    ("/composite/sobjects/{sobject}/{field}", {"PATCH": collection_upsert}),
    ("/jobs/ingest", {"GET": job_list, "POST": job_create}),
    ("/jobs/ingest/{job}", {"GET": job_info, "PATCH": ingest_state, "DELETE": job_delete}),
    ("/jobs/ingest/{job}/batches", {"PUT": ingest_upload}),
    ("/jobs/ingest/{job}/successfulResults", {"GET": ingest_results("success")}),
    ("/jobs/ingest/{job}/failedResults", {"GET": ingest_results("failed")}),
    ("/jobs/ingest/{job}/unprocessedrecords", {"GET": ingest_results("unprocessed")}),
    ("/jobs/query", {"GET": job_list, "POST": job_create}),
    ("/jobs/query/{job}", {"GET": job_info, "PATCH": query_job_abort, "DELETE": job_delete}),
    ("/jobs/query/{job}/results", {"GET": query_job_results}),
]

#: Routes whose handler reads the request body itself, as it arrives (``BodyStream``).
STREAMED = {"/jobs/ingest/{job}/batches": frozenset({"PUT"})}


def _dispatch(methods: Methods) -> Handler:
    def handle(s: Services, c: Call) -> Response:
        method = c.request.scope["method"]
        handler = methods["GET"] if method == "HEAD" else methods[method]
        response = _compressed(c.request, handler(s, c))  # HEAD: the headers GET would get
        if method == "HEAD":
            return Response(status_code=response.status_code, headers=dict(response.headers))
        return response

    return handle


BASE = "/services/data/{version}"


#: Methods that only read (``POST`` ones that do, such as parameterized search, count as
#: writes: a write thread serves them all the same).
READS = frozenset({"GET", "HEAD"})
#: Routes whose GET is tried on the event loop: bounded reads (on SQLite a query runs there
#: until the loop budget, then moves to a thread; on PostgreSQL its reads run apart;
#: commits.py).
INLINE_READS = frozenset({"/query", "/queryAll", "/sobjects/{sobject}/{id}", "/limits"})


def endpoints(services: Services) -> list[tuple[str, Methods, Callable[[Request], Any]]]:
    """Each route of ``TABLE`` in order: its path under ``BASE``, methods and endpoint (the
    Starlette routes below, and the lean dispatcher's hot routes, web/hotpath.py)."""
    inline = services.data_reads_on_loop
    return [(path, methods,
             endpoint(services, _dispatch(methods), STREAMED.get(path, frozenset()),
                      inline and path in INLINE_READS))
            for path, methods in TABLE]


def routes(services: Services) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for path, methods, run in endpoints(services):
        out.append(Route(BASE + path, run, methods=list(methods)))
        out.append(Route(BASE + path + "/", run, methods=list(methods)))
    return out
