"""``/search`` (SOSL) and ``/parameterizedSearch``: parse -> resolve each object -> index.

REST API Developer Guide, "Search" and "Parameterized Search": the answer is
``{"searchRecords": [record, …]}``, each record with ``attributes`` and the fields its
RETURNING object names (``Id`` when it names none), objects in RETURNING order. Each RETURNING
object is a SOQL select the SOQL resolver checks (fields, WHERE, ORDER BY, rights), run with
the full-text match as one more condition (``storage/sql/search_index.py``). Without
RETURNING, every searchable object the user can read is searched, Ids only. The statement's
LIMIT (default and at most 2,000) bounds all objects together.

A parameterized search is written as the SOSL statement it stands for and run the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Any

from localforce.data.access import require_api
from localforce.data.errors import BadRequest
from localforce.data.query import QueryService, rights
from localforce.data.resolve import Resolver
from localforce.domain.principal import Principal
from localforce.soql import SoqlError, ast
from localforce.soql.sosl import MAX_LIMIT, SCOPES, parse_search

#: Parsed statements kept per process (pure, immutable), as for SOQL.
_parse_cached = functools.lru_cache(maxsize=1024)(parse_search)


class SearchService:
    def __init__(self, queries: QueryService) -> None:
        self.queries = queries

    def search(self, principal: Principal, sosl: str, version: str) -> dict[str, Any]:
        require_api(principal)
        try:
            statement = _parse_cached(sosl) if len(sosl) <= 4000 else parse_search(sosl)
        except SoqlError as exc:
            raise BadRequest(exc.error_code, exc.message) from None
        store, schema = self.queries.store, self.queries.schema_for(principal.org_id)
        resolver = Resolver(
            schema, sosl, lambda obj: rights(principal, obj)[0], principal.org_id,
            dt.datetime.fromtimestamp(self.queries.clock(), dt.UTC), False,
            functools.cache(lambda: self.queries.time_zone(schema, principal)),
            lambda obj: rights(principal, obj)[1])
        selects = statement.returning or tuple(
            _ids_of(obj.name) for obj in schema
            if store.searchable(obj) and rights(principal, obj)[0])
        plans = []
        for select in selects:
            plan = resolver.plan(select)
            if plan.aggregate:
                raise BadRequest("MALFORMED_SEARCH", "Aggregate functions are not supported "
                                 "in a SOSL RETURNING clause")
            if not store.searchable(plan.root):
                raise BadRequest("INVALID_SEARCH", f"entity type {plan.root.name} does not "
                                 "support search")
            plans.append(plan)
        records: list[dict[str, Any]] = []
        for plan in plans:
            room = statement.limit - len(records)
            if room <= 0:
                break
            limit = min(room, plan.select.limit if plan.select.limit is not None else room)
            rows = store.search(plan, statement.term, statement.scope, limit,
                                plan.select.offset or 0)
            records += self.queries.records(plan, version, rows,
                                            self.queries.zone_for(plan, principal))
        return {"searchRecords": records}

    def parameterized(self, principal: Principal, params: Mapping[str, Any],
                      version: str) -> dict[str, Any]:
        """GET's query parameters or POST's JSON body, as the SOSL they stand for."""
        require_api(principal)
        return self.search(principal, parameterized_sosl(params), version)


def _ids_of(sobject: str) -> ast.Select:
    pos = ast.Pos(0, 1, 1)
    return ast.Select((ast.FieldPath(("Id",), pos, (pos,)),), sobject, pos, pos)


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parameterized_sosl(params: Mapping[str, Any]) -> str:
    """``q``, ``in``, ``fields``, ``sobject``/``sobjects`` (with ``fields``, ``where``,
    ``limit``), ``overallLimit``, ``defaultLimit`` -> ``FIND {…} IN … RETURNING … LIMIT n``.
    GET repeats per object as ``Account.fields=…&Account.where=…&Account.limit=…``."""
    q = params.get("q")
    if not isinstance(q, str) or not q.strip():
        raise BadRequest("INVALID_SEARCH", "Missing or empty search query parameter: q")
    scope = str(params.get("in") or "ALL").upper()
    if scope not in SCOPES:
        raise BadRequest("INVALID_SEARCH", f"Invalid value for parameter 'in': {scope}")
    common = _list(params.get("fields"))
    default_limit = _number(params, "defaultLimit")
    objects: list[dict[str, Any]] = []
    raw = params.get("sobjects")
    if isinstance(raw, list):
        objects = [o for o in raw if isinstance(o, dict)]
    elif isinstance(params.get("sobject"), str):
        name = params["sobject"]
        objects = [{"name": name, "fields": params.get(f"{name}.fields"),
                    "where": params.get(f"{name}.where"), "limit": params.get(f"{name}.limit")}]
    parts = []
    for spec in objects:
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadRequest("INVALID_SEARCH", f"Invalid sobject name: {name}")
        fields = _list(spec.get("fields")) or common or ["Id"]
        inner = ", ".join(fields)
        if spec.get("where"):
            inner += f" WHERE {spec['where']}"
        limit = _number(spec, "limit") or default_limit
        if limit is not None:
            inner += f" LIMIT {limit}"
        parts.append(f"{name}({inner})")
    sosl = "FIND {" + re.sub(r"(?<!\\)([{}])", r"\\\1", q) + "} IN " + scope + " FIELDS"
    if parts:
        sosl += " RETURNING " + ", ".join(parts)
    overall = _number(params, "overallLimit")
    return sosl + f" LIMIT {min(overall, MAX_LIMIT) if overall is not None else MAX_LIMIT}"


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    out = [str(v).strip() for v in value if str(v).strip()]
    for name in out:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", name):
            raise BadRequest("INVALID_SEARCH", f"Invalid field name: {name}")
    return out


def _number(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest("INVALID_SEARCH", f"Invalid value for parameter '{name}': "
                         f"{value}") from None
    if number < 0:
        raise BadRequest("INVALID_SEARCH", f"Invalid value for parameter '{name}': {value}")
    return number
