"""The data API's front door: one object the web, CLI and seed layers call.

``DataApi`` wires the record store to the org's schema (standard objects plus declared custom
objects), and offers records, queries, describe, collections, composite, custom-object
declarations and the seed-file record loader.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localforce.data import describe as describing
from localforce.data.access import readable, require_api
from localforce.data.assignments import AssignmentWrites
from localforce.data.composite import (
    BATCH_HALTED,
    HALTED,
    MAX_GRAPH_NODES,
    MAX_GRAPHS,
    MAX_SUBREQUESTS,
    Collections,
    resolve_references,
)
from localforce.data.custom import DeclarationError, build_objects, parse_declaration
from localforce.data.errors import ApiError, BadRequest, NotFound
from localforce.data.limits import limits_body
from localforce.data.ports import RecordStore
from localforce.data.query import QueryService
from localforce.data.records import Records
from localforce.data.replication import Replication
from localforce.data.schema import ObjectDef, Schema
from localforce.data.search import SearchService
from localforce.data.tree import create_tree
from localforce.data.values import is_true
from localforce.domain import ids
from localforce.domain.principal import Principal

#: When this process loaded the standard objects' describe catalogue (data/sobjects.json).
CATALOGUE_LOADED = float(int(time.time()))


class DataApi:
    def __init__(self, store: RecordStore, clock: Callable[[], float],
                 assignments: AssignmentWrites | None = None) -> None:
        self.store, self.clock = store, clock
        self.records = Records(store, clock, assignments=assignments)
        self.queries = QueryService(store, self.schema_for, clock)
        self.search = SearchService(self.queries)
        self.replication = Replication(self.queries)
        self.collections = Collections(self.records)

    def schema_for(self, org_id: str) -> Schema:
        return self.records.schema_for(org_id)

    # -- describe ---------------------------------------------------------------------------

    def describe_global(self, principal: Principal, version: str) -> dict[str, Any]:
        require_api(principal)
        visible = [o for o in self.schema_for(principal.org_id) if readable(principal, o)]
        return describing.describe_global(visible, version)

    def basic_info(self, principal: Principal, sobject: str, version: str) -> dict[str, Any]:
        return describing.basic_info(self.records.object(principal, sobject), version)

    def describe(self, principal: Principal, sobject: str, version: str) -> dict[str, Any]:
        obj = self.records.object(principal, sobject)
        return describing.describe(obj, self.schema_for(principal.org_id), version)

    def describe_modified(self, principal: Principal, sobject: str) -> float | None:
        """When the object's describe last changed, for ``If-Modified-Since``: a standard
        object no declaration extends is as this process loaded it; None (always changed) for
        declared objects and fields, whose change time is not kept with the schema."""
        obj = self.records.object(principal, sobject)
        if obj.custom or any(f.custom for f in obj.fields):
            return None
        return CATALOGUE_LOADED

    def sobject_of(self, org_id: str, record_id: str) -> str | None:
        if not ids.is_valid(record_id):
            return None
        obj = self.schema_for(org_id).by_prefix(ids.to18(record_id)[:3])
        return obj.name if obj else None

    # -- custom objects ---------------------------------------------------------------------

    def declare(self, org_id: str, data: Mapping[str, Any]) -> ObjectDef:
        """Create or extend a custom object (or add custom fields to a standard one).

        Read and written in one transaction, so the merge starts from the stored declarations
        (not a cached copy that another worker's change may have outdated)."""
        with self.store.transaction() as store:
            return self._declare(store, org_id, data)

    @staticmethod
    def _declare(store: RecordStore, org_id: str, data: Mapping[str, Any]) -> ObjectDef:
        current = store.declarations(org_id)
        names = [d["name"] for d, _ in current]
        decl = parse_declaration(data, names)
        previous = next(((d, p) for d, p in current if d["name"].lower()
                         == decl["name"].lower()), None)
        if previous is not None:
            decl["fields"] = _merge_fields(previous[0]["fields"], decl["fields"])
            prefix = previous[1]
        else:
            prefix = None if decl["name"].lower() in {o.key for o in build_objects([])} else (
                store.next_key_prefix(org_id))
        others = [(d, p) for d, p in current if d["name"].lower() != decl["name"].lower()]
        schema = build_objects(others + [(decl, prefix)])
        obj = schema.get(decl["name"])
        assert obj is not None
        store.save_declaration(org_id, decl, [obj])
        return obj

    # -- limits and composite ---------------------------------------------------------------

    def limits(self, principal: Principal, daily_api_requests: Mapping[str, int]
               ) -> dict[str, Any]:
        """``daily_api_requests``: the org's allocation (``Max`` and ``Remaining``)."""
        require_api(principal)
        return limits_body(daily_api_requests)

    def composite(self, principal: Principal, body: Any, version: str) -> dict[str, Any]:
        """``POST /composite``: subrequests in order, ``@{ref.field}`` references resolved."""
        require_api(principal)
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise BadRequest("JSON_PARSER_ERROR", "compositeRequest is required")
        requests = body["compositeRequest"]
        if len(requests) > MAX_SUBREQUESTS:
            raise BadRequest("LIMIT_EXCEEDED", "Composite request has too many subrequests")
        responses, _ = self._atomic(principal, requests, version,
                                    bool(body.get("allOrNone", False)))
        return {"compositeResponse": responses}

    def _atomic(self, principal: Principal, requests: list[Any], version: str,
                all_or_none: bool) -> tuple[list[dict[str, Any]], bool]:
        """Subrequests in one transaction, rolled back if one fails and ``all_or_none``;
        the responses and whether one failed."""
        for sub in requests:  # a body Salesforce's parser would refuse as a whole
            if not isinstance(sub, dict) or not all(
                    isinstance(sub.get(key, ""), str) for key in ("method", "url")):
                raise BadRequest("JSON_PARSER_ERROR", "Each subrequest must be an object whose "
                                 "method and url are strings")
        try:
            with self.store.transaction() as store:
                api = DataApi(store, self.clock)
                responses, failed = api._subrequests(principal, requests, version, all_or_none)
                if failed and all_or_none:
                    raise _RollbackSignal(responses)  # leaving the block rolls back
        except _RollbackSignal as signal:
            return signal.responses, True
        return responses, failed

    def tree(self, principal: Principal, sobject: str, body: Any) -> tuple[int, dict[str, Any]]:
        """``POST /composite/tree/{type}`` (``data/tree.py``)."""
        require_api(principal)
        return create_tree(self.records, principal, sobject, body)

    def graph(self, principal: Principal, body: Any, version: str) -> dict[str, Any]:
        """``POST /composite/graph``: each graph's subrequests all-or-none, graph by graph."""
        require_api(principal)
        graphs = body.get("graphs") if isinstance(body, dict) else None
        if not isinstance(graphs, list) or not graphs:
            raise BadRequest("INVALID_INPUT", "The request must contain a non-empty 'graphs' "
                             "array")
        if len(graphs) > MAX_GRAPHS:
            raise BadRequest("LIMIT_EXCEEDED", f"A composite graph request can contain at "
                             f"most {MAX_GRAPHS} graphs")
        seen: set[str] = set()
        for graph in graphs:
            graph_id = graph.get("graphId") if isinstance(graph, dict) else None
            requests = graph.get("compositeRequest") if isinstance(graph, dict) else None
            if not isinstance(graph_id, str) or not graph_id or not isinstance(requests, list):
                raise BadRequest("INVALID_INPUT", "Each graph needs a graphId and a "
                                 "compositeRequest array")
            if graph_id in seen:
                raise BadRequest("INVALID_INPUT", f"Duplicate graphId: {graph_id}")
            if len(requests) > MAX_GRAPH_NODES:
                raise BadRequest("LIMIT_EXCEEDED", f"Graph {graph_id} has more than "
                                 f"{MAX_GRAPH_NODES} nodes")
            seen.add(graph_id)
        out = []
        for graph in graphs:
            responses, failed = self._atomic(principal, graph["compositeRequest"], version,
                                             True)
            out.append({"graphId": graph["graphId"],
                        "graphResponse": {"compositeResponse": responses},
                        "isSuccessful": not failed})
        return {"graphs": out}

    def batch(self, principal: Principal, body: Any) -> dict[str, Any]:
        """``POST /composite/batch``: up to 25 independent subrequests (each commits on its
        own); with ``haltOnError`` the ones after a failure answer 412."""
        require_api(principal)
        requests = body.get("batchRequests") if isinstance(body, dict) else None
        if not isinstance(requests, list):
            raise BadRequest("JSON_PARSER_ERROR", "batchRequests is required")
        if len(requests) > MAX_SUBREQUESTS:
            raise BadRequest("LIMIT_EXCEEDED", f"A batch can contain at most {MAX_SUBREQUESTS} "
                             "subrequests")
        halt = bool(body.get("haltOnError", False))
        results: list[dict[str, Any]] = []
        failed = False
        for sub in requests:
            if failed and halt:
                results.append({"statusCode": 412, "result": BATCH_HALTED})
                continue
            try:
                if not isinstance(sub, dict):
                    raise BadRequest("JSON_PARSER_ERROR", "Each subrequest must be an object")
                url = str(sub.get("url", ""))
                if not url.startswith("/services/data/"):
                    url = "/services/data/" + url.lstrip("/")
                status, out, _ = self.dispatch(principal, str(sub.get("method", "GET")), url,
                                               sub.get("richInput"))
            except ApiError as exc:
                status, out = exc.status, exc.body()
            failed = failed or status >= 400
            results.append({"statusCode": status, "result": out})
        return {"hasErrors": failed, "results": results}

    def _subrequests(self, principal: Principal, requests: list[Any], version: str,
                     all_or_none: bool) -> tuple[list[dict[str, Any]], bool]:
        results: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        failed = False
        for sub in requests:
            ref = str(sub.get("referenceId", "")) if isinstance(sub, dict) else ""
            if failed and all_or_none:
                responses.append({"body": HALTED, "httpHeaders": {}, "httpStatusCode": 400,
                                  "referenceId": ref})
                continue
            try:
                sub = resolve_references(sub, results)
                status, out, headers = self.dispatch(principal, sub.get("method", "GET"),
                                                     sub.get("url", ""), sub.get("body"))
            except ApiError as exc:
                status, out, headers = exc.status, exc.body(), {}
                failed = True
            results[ref] = out
            responses.append({"body": out, "httpHeaders": headers, "httpStatusCode": status,
                              "referenceId": ref})
        if failed and all_or_none:
            for response in responses:
                if response["httpStatusCode"] < 300:
                    response.update(body=HALTED, httpHeaders={}, httpStatusCode=400)
        return responses, failed

    def dispatch(self, principal: Principal, method: str, url: str,
                 body: Any) -> tuple[int, Any, dict[str, str]]:
        """Run one composite subrequest: sObject rows and queries."""
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 4 or segments[:2] != ["services", "data"]:
            raise NotFound()
        version = segments[2].removeprefix("v")
        rest = segments[3:]
        method = method.upper()
        q = parse_qs(parts.query).get("q", [""])[0]
        if rest[0] in ("query", "queryAll") and len(rest) == 1 and method == "GET":
            return 200, self.queries.query(principal, q, version, rest[0] == "queryAll"), {}
        if rest[0] == "search" and len(rest) == 1 and method == "GET":
            return 200, self.search.search(principal, q, version), {}
        if rest[0] != "sobjects" or len(rest) < 2:
            raise NotFound()
        sobject = rest[1]
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if len(rest) == 2 and method == "POST":
            result = self.records.create(principal, sobject, body)
            location = f"/services/data/v{version}/sobjects/{sobject}/{result.id}"
            return 201, result.body(), {"Location": location}
        if len(rest) == 3 and method == "GET":
            return 200, self.records.retrieve(principal, sobject, rest[2], version,
                                              params.get("fields")), {}
        if len(rest) == 3 and method == "PATCH":
            self.records.update(principal, sobject, rest[2], body)
            return 204, None, {}
        if len(rest) == 3 and method == "DELETE":
            self.records.delete(principal, sobject, rest[2])
            return 204, None, {}
        if len(rest) == 4 and method == "PATCH":
            result = self.records.upsert(principal, sobject, rest[2], rest[3], body, version,
                                         update_only=is_true(params.get("updateOnly")))
            return (201 if result.created else 200), result.body(upsert=True), {}
        raise NotFound()


class _RollbackSignal(Exception):
    def __init__(self, responses: list[dict[str, Any]]) -> None:
        super().__init__("composite rolled back")
        self.responses = responses


def _merge_fields(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name = {f["name"].lower(): f for f in old}
    for f in new:
        existing = by_name.get(f["name"].lower())
        if existing is not None and existing["type"] != f["type"]:
            raise DeclarationError(f"field {f['name']!r} already exists as {existing['type']}")
        by_name[f["name"].lower()] = f
    return list(by_name.values())
