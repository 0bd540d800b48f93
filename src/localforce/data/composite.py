"""``/composite/sobjects`` collections and basic ``/composite`` (salesforce-wire.md §6.9).

Collections: up to 200 records, per-record results with ``statusCode`` errors; with
``allOrNone`` every write happens in one transaction and a failure rolls all back
(``ALL_OR_NONE_OPERATION_ROLLED_BACK`` on the others). Composite: up to 25 subrequests with
``@{ref.field}`` references, executed by the same route table the client would call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localforce.data.errors import ApiError, BadRequest
from localforce.data.records import Records
from localforce.domain.principal import Principal

MAX_RECORDS = 200
MAX_SUBREQUESTS = 25
#: ``/composite/graph``: graphs per request and subrequests (nodes) per graph.
MAX_GRAPHS = 75
MAX_GRAPH_NODES = 500
BATCH_HALTED = [{"errorCode": "BATCH_PROCESSING_HALTED",
                 "message": "Batch processing halted per request"}]
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the "
                          "request was using AllOrNone header", "fields": []}
HALTED = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since "
                                                        "another operation in the same "
                                                        "transaction failed."}]
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")


class _Rollback(Exception):
    pass


def _error(exc: ApiError) -> dict[str, Any]:
    return {"statusCode": exc.error_code, "message": exc.message, "fields": exc.fields or []}


class Collections:
    def __init__(self, records: Records) -> None:
        self.records = records

    def _run(self, principal: Principal, items: list[Any], all_or_none: bool,
             action: Callable[[Records, Any], dict[str, Any]]) -> list[dict[str, Any]]:
        if len(items) > MAX_RECORDS:
            raise BadRequest("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more "
                             f"than {MAX_RECORDS} records into this call")
        results: list[dict[str, Any]] = []
        try:
            with self.records.store.transaction() as store:
                records = self.records.with_store(store)
                for item in items:
                    try:
                        results.append(action(records, item))
                    except ApiError as exc:
                        results.append({"success": False, "errors": [_error(exc)]})
                if all_or_none and any(not r["success"] for r in results):
                    raise _Rollback()
        except _Rollback:
            # A rolled-back row names no id: a created record no longer exists.
            return [r if not r["success"] else {"success": False, "errors": [ROLLED_BACK]}
                    for r in results]
        return results

    def create(self, principal: Principal, body: Any) -> list[dict[str, Any]]:
        records, all_or_none = self._records(body)

        def one(store: Records, record: Any) -> dict[str, Any]:
            sobject = _type(record)
            data = {k: v for k, v in record.items() if k != "attributes"}
            return store.create(principal, sobject, data).body()

        return self._run(principal, records, all_or_none, one)

    def update(self, principal: Principal, body: Any) -> list[dict[str, Any]]:
        records, all_or_none = self._records(body)

        def one(store: Records, record: Any) -> dict[str, Any]:
            sobject = _type(record)  # first: it refuses a record that is not an object
            record_id = str(record.get("id") or record.get("Id") or "")
            data = {k: v for k, v in record.items() if k.lower() not in ("attributes", "id")}
            store.update(principal, sobject, record_id, data)
            return {"id": record_id, "success": True, "errors": []}

        return self._run(principal, records, all_or_none, one)

    def upsert(self, principal: Principal, sobject: str, field: str,
               body: Any, version: str) -> list[dict[str, Any]]:
        records, all_or_none = self._records(body)

        def one(store: Records, record: Any) -> dict[str, Any]:
            if not isinstance(record, dict):
                raise BadRequest("JSON_PARSER_ERROR", "each record must be a JSON object")
            value = next((v for k, v in record.items() if k.lower() == field.lower()), "")
            data = {k: v for k, v in record.items() if k != "attributes"}
            return store.upsert(principal, sobject, field, str(value or ""), data,
                                version).body(upsert=True)

        return self._run(principal, records, all_or_none, one)

    def delete(self, principal: Principal, id_list: str, all_or_none: bool,
               schema_object: Callable[[str], str | None]) -> list[dict[str, Any]]:
        record_ids = [i for i in id_list.split(",") if i]

        def one(store: Records, record_id: str) -> dict[str, Any]:
            sobject = schema_object(record_id)
            if sobject is None:
                raise BadRequest("MALFORMED_ID", f"malformed id {record_id}")
            store.delete(principal, sobject, record_id)
            return {"id": record_id, "success": True, "errors": []}

        return self._run(principal, record_ids, all_or_none, one)

    def retrieve(self, principal: Principal, sobject: str, body: Any,
                 version: str) -> list[dict[str, Any] | None]:
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            raise BadRequest("JSON_PARSER_ERROR", "ids is required")
        fields = ",".join(body.get("fields") or []) or None
        out: list[dict[str, Any] | None] = []
        for record_id in body["ids"]:
            try:
                out.append(self.records.retrieve(principal, sobject, str(record_id), version,
                                                 fields))
            except ApiError as exc:
                if exc.status != 404:
                    raise
                out.append(None)
        return out

    @staticmethod
    def _records(body: Any) -> tuple[list[Any], bool]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise BadRequest("JSON_PARSER_ERROR", "records is required")
        return body["records"], bool(body.get("allOrNone", False))


def _type(record: Any) -> str:
    if not isinstance(record, dict):
        raise BadRequest("JSON_PARSER_ERROR", "each record must be a JSON object")
    attributes = record.get("attributes")
    sobject = attributes.get("type") if isinstance(attributes, dict) else None
    if not sobject:
        raise BadRequest("INVALID_TYPE", "sObject type must be specified in attributes")
    return str(sobject)


def resolve_references(value: Any, results: dict[str, Any]) -> Any:
    """Replace ``@{ref.field}`` with values from earlier subresponses."""
    if isinstance(value, str):
        def lookup(match: re.Match[str]) -> str:
            missing = BadRequest("INVALID_REFERENCE", f"Invalid reference specified. No value "
                                 f"for {match.group(1)}.{match.group(2)} found in "
                                 f"{match.group(1)}.")
            current: Any = results.get(match.group(1))
            for part in re.split(r"\.|\[(\d+)\]", match.group(2)):
                if part in (None, ""):
                    continue
                if part.isdigit() and isinstance(current, list) and int(part) < len(current):
                    current = current[int(part)]
                elif isinstance(current, dict):
                    current = current.get(part)
                else:
                    raise missing
            if current is None or isinstance(current, dict | list):
                raise missing
            return str(current)
        return _REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return {k: resolve_references(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, results) for v in value]
    return value
