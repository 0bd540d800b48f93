"""``/services/async/NN.0/job…``: Bulk API 1.0 (data/bulk/classic.py).

Its own wire: the session in ``X-SFDC-Session`` (``Authorization: Bearer`` works too), XML or
JSON bodies (JSON when the request or the job says so), errors as
``{exceptionCode, exceptionMessage}`` / ``<error>`` with 400 (jsforce re-logs in on a 400 with
``InvalidSessionId``). Counted for ``Sforce-Limit-Info`` like every data call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from localforce.bootstrap import Services
from localforce.data.bulk import classic
from localforce.data.bulk.classic import AsyncApiError
from localforce.data.bulk.ports import Job
from localforce.data.errors import ApiError
from localforce.data.versions import is_supported
from localforce.domain.principal import Principal
from localforce.limits.allocation import AllocationSpent
from localforce.oauth.sessions import InvalidSession
from localforce.web import threads
from localforce.web.auth import bearer_token
from localforce.web.routes.data import LIMIT_HEADER, BodyStream

XML_TYPE = "application/xml; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"


@dataclass
class AsyncCall:
    request: Request
    principal: Principal
    version: str
    loop: asyncio.AbstractEventLoop

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    @property
    def wants_json(self) -> bool:
        return "json" in self.request.headers.get("content-type", "").lower()

    def body(self) -> bytes:
        return b"".join(BodyStream(self.request, self.loop))


Handler = Callable[[Services, AsyncCall], Response]


def _json_job(c: AsyncCall, job: Job | None = None) -> bool:
    return (job.content_type == "JSON") if job is not None else c.wants_json


def answer(c: AsyncCall, root: str, values: Any, job: Job | None = None,
           status: int = 200) -> Response:
    if _json_job(c, job):
        return Response(json.dumps(values), status, media_type=JSON_TYPE)
    return Response(classic.to_xml(root, values), status, media_type=XML_TYPE)


def _info(s: Services, c: AsyncCall) -> dict[str, str]:
    raw = c.body()
    if c.wants_json:
        try:
            body = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeError):
            raise AsyncApiError("InvalidJob", "Unable to parse the JSON body") from None
        if not isinstance(body, dict):
            raise AsyncApiError("InvalidJob", "The body must be a JSON object")
        return body
    return classic.parse_xml(raw, "jobInfo")


def create_job(s: Services, c: AsyncCall) -> Response:
    info = s.bulk.classic.create(c.principal, _info(s, c), c.version,
                                 "JSON" if c.wants_json else "XML")
    return answer(c, "jobInfo", info, status=201)


def job_info(s: Services, c: AsyncCall) -> Response:
    job = s.bulk.classic.job(c.principal, c.param("job"))
    return answer(c, "jobInfo", s.bulk.classic.render(job), job)


def job_state(s: Services, c: AsyncCall) -> Response:
    job = s.bulk.classic.job(c.principal, c.param("job"))
    info = s.bulk.classic.set_state(c.principal, job.id, str(_info(s, c).get("state")))
    return answer(c, "jobInfo", info, job)


def add_batch(s: Services, c: AsyncCall) -> Response:
    job = s.bulk.classic.job(c.principal, c.param("job"))
    info = s.bulk.classic.add_batch(c.principal, job.id, BodyStream(c.request, c.loop))
    return answer(c, "batchInfo", info, job, status=201)


def batch_list(s: Services, c: AsyncCall) -> Response:
    job = s.bulk.classic.job(c.principal, c.param("job"))
    batches = s.bulk.classic.batches(c.principal, job.id)
    if _json_job(c, job):
        return Response(json.dumps({"batchInfo": batches}), media_type=JSON_TYPE)
    inner = b"".join(classic.to_xml("batchInfo", b).split(b"?>", 1)[1] for b in batches)
    return Response(b'<?xml version="1.0" encoding="UTF-8"?><batchInfoList xmlns="'
                    + classic.NS.encode() + b'">' + inner + b"</batchInfoList>",
                    media_type=XML_TYPE)


def batch_info(s: Services, c: AsyncCall) -> Response:
    job = s.bulk.classic.job(c.principal, c.param("job"))
    return answer(c, "batchInfo", s.bulk.classic.batch_info(c.principal, job.id,
                                                            c.param("batch")), job)


def batch_result(s: Services, c: AsyncCall) -> Response:
    jobs = s.bulk.classic
    job = jobs.job(c.principal, c.param("job"))
    batch = jobs.results(c.principal, job.id, c.param("batch"))
    if job.operation in ("query", "queryAll"):
        result = classic.result_id_of(batch)
        if job.content_type == "JSON":
            return Response(json.dumps([result]), media_type=JSON_TYPE)
        return Response(b'<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="'
                        + classic.NS.encode() + b'"><result>' + result.encode()
                        + b"</result></result-list>", media_type=XML_TYPE)
    rows = jobs.result_rows(batch)
    if job.content_type == "JSON":
        return Response(json.dumps(list(rows)), media_type=JSON_TYPE)
    if job.content_type == "CSV":
        return StreamingResponse(classic.results_as_csv(rows), media_type="text/csv")
    inner = b"".join(classic.to_xml("result", {
        "errors": None, "id": r["id"], "success": r["success"], "created": r["created"]}
    ).split(b"?>", 1)[1] for r in rows)
    return Response(b'<?xml version="1.0" encoding="UTF-8"?><results xmlns="'
                    + classic.NS.encode() + b'">' + inner + b"</results>", media_type=XML_TYPE)


def query_result(s: Services, c: AsyncCall) -> Response:
    jobs = s.bulk.classic
    job = jobs.job(c.principal, c.param("job"))
    parts = jobs.query_parts(c.principal, job.id, c.param("batch"), c.param("result"))
    if job.content_type == "JSON":
        def array() -> Iterator[bytes]:
            yield b"["
            first = True
            for part in parts:
                yield part if first else b"," + part
                first = False
            yield b"]"

        return StreamingResponse(array(), media_type=JSON_TYPE)
    batch = jobs.batch(c.principal, job.id, c.param("batch"))
    header = ",".join(f'"{name}"' for name in batch.columns).encode() + b"\n"
    return StreamingResponse(iter([header, *parts]), media_type="text/csv")


TABLE: list[tuple[str, dict[str, Handler]]] = [
    ("/job", {"POST": create_job}),
    ("/job/{job}", {"GET": job_info, "POST": job_state}),
    ("/job/{job}/batch", {"GET": batch_list, "POST": add_batch}),
    ("/job/{job}/batch/{batch}", {"GET": batch_info}),
    ("/job/{job}/batch/{batch}/result", {"GET": batch_result}),
    ("/job/{job}/batch/{batch}/result/{result}", {"GET": query_result}),
]


def _principal(s: Services, request: Request) -> Principal:
    token = request.headers.get("x-sfdc-session") or bearer_token(request)
    try:
        if not token:
            raise InvalidSession("no session")
        principal = s.oauth.sessions.resolve(token.strip())
    except InvalidSession:
        raise AsyncApiError("InvalidSessionId", "Invalid session id") from None
    request.state.principal = principal
    return principal


def endpoint(s: Services, methods: dict[str, Handler]) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        usage: list[str] = []
        loop = asyncio.get_running_loop()
        version = str(request.path_params["version"])

        def call() -> Response:
            if not is_supported(version):
                raise AsyncApiError("InvalidVersion", f"Invalid API version: {version}", 404)
            principal = _principal(s, request)
            usage.append(s.limits.allocation.consume(principal.org_id).header())
            handler = methods["GET" if request.method == "HEAD" else request.method]
            return handler(s, AsyncCall(request, principal, version, loop))

        try:
            response = await threads.run(call)
        except AllocationSpent as exc:
            usage[:] = [exc.usage.header()]
            response = _error(request, AsyncApiError("ExceededQuota", "TotalRequests Limit "
                                                     "exceeded.", 403))
        except ApiError as exc:
            response = _error(request, exc)
        if usage:
            response.headers[LIMIT_HEADER] = usage[-1]
        return response

    return run


def _error(request: Request, exc: ApiError) -> Response:
    if not isinstance(exc, AsyncApiError):
        exc = AsyncApiError(exc.error_code, exc.message, exc.status)
    xml = "json" not in request.headers.get("content-type", "").lower()
    return Response(classic.error_body(exc, xml), exc.status,
                    media_type=XML_TYPE if xml else JSON_TYPE)


def routes(services: Services) -> list[BaseRoute]:
    base = "/services/async/{version}"
    return [Route(base + path, endpoint(services, methods), methods=list(methods))
            for path, methods in TABLE]
