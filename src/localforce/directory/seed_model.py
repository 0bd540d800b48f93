"""The seed file's public types: its error, its report, and the port records go through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from localforce.domain.models import Org


class SeedError(ValueError):
    """A seed file problem, naming the file, the entry and the field."""

    def __init__(self, source: str, entry: str, field_name: str | None, message: str) -> None:
        where = f"{source}: {entry}" + (f": field '{field_name}'" if field_name else "")
        super().__init__(f"{where}: {message}")
        self.source, self.entry, self.field, self.detail = source, entry, field_name, message


class RecordSeeder(Protocol):
    """Where ``[[records.X]]`` go: the data API's record store."""

    def validate_seed_record(self, sobject: str, values: Mapping[str, Any]) -> str | None:
        """None if the record is acceptable, else a message naming the bad field."""
        ...

    def seed_record(self, org_id: str, owner_id: str, sobject: str,
                    values: Mapping[str, Any]) -> bool:
        """Create the record unless an equal one exists (matched by Name or external ID).
        Returns True if anything was written."""
        ...

    def validate_objects(self, entries: list[Any]) -> str | None:
        """None if the ``[[objects]]`` declarations are acceptable, else the problem."""
        ...

    def declare_objects(self, org_id: str, entries: list[Any]) -> list[str]:
        """Create or extend the declared custom objects; the names of those changed."""
        ...


@dataclass
class SeedReport:
    org: Org
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)
