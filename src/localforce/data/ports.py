"""What the data-API core needs from storage: records, declarations, query pages, cursors.

Values crossing this port are in stored form (see :mod:`localforce.data.values`); no SQL,
session or row object crosses it. The SQL adapter is ``storage/sql/record_store.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from localforce.data.plan import QueryPlan
from localforce.data.schema import FieldDef, ObjectDef
from localforce.soql.sosl import Term


@dataclass(frozen=True)
class Cursor:
    """Server-side state of a query locator (``01g…``), so any replica can serve next pages."""

    id: str
    org_id: str
    user_id: str
    soql: str
    query_all: bool
    batch_size: int
    total_size: int
    #: page offset -> the sort key (ORDER BY values, then Id) of the last row before it, so
    #: the page starts after it (keyset paging); a bare Id from older servers means ``[Id]``.
    keys: Mapping[str, Any]
    expires_at: int


class RecordStore(Protocol):
    def transaction(self) -> AbstractContextManager[RecordStore]:
        """A store whose writes commit together or not at all (``allOrNone``)."""
        ...

    # -- declarations of custom objects / fields
    def declarations(self, org_id: str, fresh: bool = False
                     ) -> list[tuple[dict[str, Any], str | None]]:
        """The org's custom-object declarations; a cached copy (<= 1 s old) unless ``fresh``."""
        ...
    def save_declaration(self, org_id: str, declaration: dict[str, Any],
                         objects: Sequence[ObjectDef]) -> None:
        """Store the declaration and create or widen the tables of ``objects``."""
        ...

    def next_key_prefix(self, org_id: str) -> str: ...

    # -- records
    def insert(self, obj: ObjectDef, org_id: str, values: Mapping[str, Any]) -> None: ...
    def insert_many(self, obj: ObjectDef, org_id: str, rows: Sequence[Mapping[str, Any]]
                    ) -> None:
        """Insert rows in one statement (a field a row leaves out is null)."""
        ...
    def insert_rows(self, obj: ObjectDef, org_id: str, names: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows given as values in the order of ``names`` (the other fields null)."""
        ...
    def insert_if_absent(self, obj: ObjectDef, org_id: str, values: Mapping[str, Any]) -> None:
        """Insert unless a row with this ``Id`` exists (concurrent callers included)."""
        ...
    def get(self, obj: ObjectDef, org_id: str, record_id: str,
            fields: Sequence[FieldDef]) -> dict[str, Any] | None:
        """Stored values by field name plus ``IsDeleted``; None if no such record."""
        ...

    def get_many(self, obj: ObjectDef, org_id: str, record_ids: Sequence[str],
                 fields: Sequence[FieldDef]) -> dict[str, dict[str, Any]]:
        """``get`` of many records (of ``kind`` records) by Id: those that exist."""
        ...

    def update(self, obj: ObjectDef, org_id: str, record_id: str,
               values: Mapping[str, Any]) -> None: ...
    def update_many(self, obj: ObjectDef, org_id: str,
                    changes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """``update`` of many records, each Id at most once."""
        ...

    def remove_many(self, obj: ObjectDef, org_id: str, record_ids: Sequence[str]) -> None: ...
    def find_many(self, obj: ObjectDef, org_id: str, f: FieldDef, values: Sequence[Any],
                  limit: int | None = None) -> list[tuple[str, Any]]:
        """``(Id, value of f)`` of live records whose ``f`` is one of ``values`` (text
        compared case-insensitively), ordered by Id."""
        ...
    def remove(self, obj: ObjectDef, org_id: str, record_id: str) -> None:
        """Delete the row itself (a hard delete: no recycle bin, no ``IsDeleted`` row)."""
        ...
    def find_ids(self, obj: ObjectDef, org_id: str, f: FieldDef, value: Any,
                 limit: int = 10) -> list[str]:
        """Ids of live records whose ``f`` equals ``value`` (text compared case-insensitively)."""
        ...

    def next_number(self, obj: ObjectDef, org_id: str, f: FieldDef) -> int: ...

    # -- queries
    def run(self, plan: QueryPlan, offset: int = 0, limit: int | None = None
            ) -> list[tuple[Any, ...]]: ...
    def page(self, plan: QueryPlan, limit: int, offset: int = 0,
             after: Sequence[Any] | None = None) -> list[tuple[tuple[Any, ...], list[Any]]]:
        """A record query's rows, each with its sort key; ``after`` starts after such a key."""
        ...

    def count(self, plan: QueryPlan) -> int: ...
    def run_children(self, plan: QueryPlan, lookup: FieldDef,
                     parent_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of a child plan for these parents; the last column is the parent Id."""
        ...

    def searchable(self, obj: ObjectDef) -> bool:
        """Whether SOSL can search the object (it has a full-text index)."""
        ...

    def search(self, plan: QueryPlan, term: Term, scope: str, limit: int,
               offset: int = 0) -> list[tuple[Any, ...]]:
        """Rows of a record query that also match the SOSL ``term`` in ``scope``'s fields."""
        ...

    def explain(self, plan: QueryPlan) -> tuple[str, list[str]]:
        """The SQL a plan compiles to, and the database's plan for it."""
        ...

    # -- cursors
    def save_cursor(self, cursor: Cursor) -> None: ...
    def get_cursor(self, cursor_id: str) -> Cursor | None: ...
