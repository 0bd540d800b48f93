"""``POST /composite/tree/{type}``: nested parent-child records created in one transaction.

REST API Developer Guide, "sObject Tree": each record carries ``attributes.type`` and
``attributes.referenceId``; a child relationship (``"Contacts": {"records": [...]}``) nests its
records, whose lookup to the parent is filled in. At most 200 records across all trees, five
levels deep, five types. Records are created level by level (every root, then every second
level record, …), and the answer lists them in that order: ``{"hasErrors": false, "results":
[{"referenceId", "id"}]}`` (201). If one record fails nothing is kept, and the answer (400)
names only that record: ``{"hasErrors": true, "results": [{"referenceId", "errors":
[{"statusCode", "message", "fields"}]}]}``. An unknown field fails the whole request as
``INVALID_FIELD`` in the error list, which ``sf data import tree`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localforce.data.errors import ApiError, BadRequest
from localforce.data.records import Records
from localforce.domain.principal import Principal

MAX_RECORDS = 200
MAX_DEPTH = 5
MAX_TYPES = 5


@dataclass
class _Node:
    sobject: str
    reference: Any
    values: dict[str, Any]
    level: int
    parent: _Node | None = None
    lookup: str | None = None
    id: str | None = field(default=None)


class _Failed(Exception):
    def __init__(self, node: _Node, error: ApiError) -> None:
        super().__init__(error.message)
        self.node, self.error = node, error


def _invalid(reference: Any, message: str) -> dict[str, Any]:
    return {"referenceId": reference, "errors": [
        {"statusCode": "INVALID_INPUT", "message": message, "fields": []}]}


def create_tree(records: Records, principal: Principal, sobject: str,
                body: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, answer) for one tree request."""
    root = records.object(principal, sobject)  # INVALID_TYPE / NOT_FOUND for an unknown type
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise BadRequest("JSON_PARSER_ERROR", "The request body must be an object with a "
                         "'records' array")
    nodes: list[_Node] = []
    _collect(records, principal, body["records"], root.name, 1, None, None, nodes)
    if len(nodes) > MAX_RECORDS:
        raise BadRequest("LIMIT_EXCEEDED", f"Exceeded the maximum of {MAX_RECORDS} records "
                         "in an sObject tree request")
    if len({n.sobject.lower() for n in nodes}) > MAX_TYPES:
        raise BadRequest("LIMIT_EXCEEDED", f"An sObject tree request can contain records of "
                         f"at most {MAX_TYPES} types")
    problems = _reference_problems(nodes)
    if problems:
        return 400, {"hasErrors": True, "results": problems}
    nodes.sort(key=lambda n: n.level)  # stable: each level in request order
    try:
        with records.store.transaction() as store:
            writer = records.with_store(store)
            for node in nodes:
                values = dict(node.values)
                if node.parent is not None and node.lookup is not None:
                    values[node.lookup] = node.parent.id
                try:
                    node.id = writer.create(principal, node.sobject, values).id
                except ApiError as exc:
                    if exc.error_code == "INVALID_FIELD":
                        raise
                    raise _Failed(node, exc) from None
    except _Failed as failed:
        error = failed.error
        return 400, {"hasErrors": True, "results": [{"referenceId": failed.node.reference,
                                                     "errors": [{
                                                         "statusCode": error.error_code,
                                                         "message": error.message,
                                                         "fields": error.fields or []}]}]}
    return 201, {"hasErrors": False, "results": [
        {"referenceId": n.reference, "id": n.id} for n in nodes]}


def _collect(records: Records, principal: Principal, items: list[Any], sobject: str,
             level: int, parent: _Node | None, lookup: str | None, out: list[_Node]) -> None:
    if level > MAX_DEPTH:
        raise BadRequest("LIMIT_EXCEEDED", f"An sObject tree can be at most {MAX_DEPTH} "
                         "levels deep")
    obj = records.object(principal, sobject)
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("JSON_PARSER_ERROR", "Each record must be a JSON object")
        attributes = item.get("attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        declared = attributes.get("type")
        if not isinstance(declared, str) or declared.lower() != obj.name.lower():
            raise BadRequest("INVALID_INPUT", f"The record type {declared!r} does not match "
                             f"the type {obj.name} expected here")
        node = _Node(obj.name, attributes.get("referenceId"), {}, level, parent, lookup)
        out.append(node)
        nested: list[tuple[str, str, list[Any]]] = []
        for key, value in item.items():
            if key == "attributes":
                continue
            relation = obj.child(key) if isinstance(value, dict) else None
            if relation is not None and isinstance(value.get("records"), list):
                nested.append((relation.child, relation.field, value["records"]))
            else:
                node.values[key] = value
        for child, field_name, child_items in nested:
            _collect(records, principal, child_items, child, level + 1, node, field_name, out)


def _reference_problems(nodes: list[_Node]) -> list[dict[str, Any]]:
    """Every record needs a reference id, unique in the request (one result per duplicate)."""
    problems = []
    seen: dict[str, int] = {}
    for node in nodes:
        ref = node.reference
        if not isinstance(ref, str) or not ref.strip():
            problems.append(_invalid(ref, "Include a reference ID for each record in the "
                                          "request"))
        else:
            seen[ref] = seen.get(ref, 0) + 1
    for ref, count in seen.items():
        if count > 1:
            problems += [_invalid(ref, "Duplicate ReferenceId provided in the request")] * count
    return problems
