"""The seed file's ``[[objects]]`` and ``[[records.X]]``, loaded through the data API.

Records are created as the org's first active user, with full rights (the seed file is the
admin's). Loading is idempotent: a record whose external-ID value, or else whose Name, matches
a live record is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localforce.data.api import DataApi
from localforce.data.custom import DeclarationError, parse_declaration
from localforce.data.errors import ApiError
from localforce.data.schema import standard_schema
from localforce.domain.models import Access, ObjectPermissions
from localforce.domain.principal import Principal

_SYSTEM = Access(api_enabled=True, view_all_data=True, modify_all_data=True, manage_users=False,
                 objects=ObjectPermissions(), login_ip_ranges=())


class DataSeeder:
    def __init__(self, data: DataApi) -> None:
        self.data = data

    def validate_objects(self, entries: list[Any]) -> str | None:
        names: list[str] = []
        for entry in entries:
            try:
                decl = parse_declaration(entry if isinstance(entry, Mapping) else {}, names)
            except DeclarationError as exc:
                return str(exc)
            names.append(decl["name"])
        return None

    def declare_objects(self, org_id: str, entries: list[Any]) -> list[str]:
        before = {d["name"]: d for d, _ in self.data.store.declarations(org_id)}
        changed = []
        for entry in entries:
            obj = self.data.declare(org_id, entry)
            after = {d["name"]: d for d, _ in self.data.store.declarations(org_id)}
            if before.get(obj.name) != after.get(obj.name):
                changed.append(f"object {obj.name}")
            before = after
        return changed

    def validate_seed_record(self, sobject: str, values: Mapping[str, Any]) -> str | None:
        obj = standard_schema().get(sobject)
        if obj is None:
            # Custom objects may be declared by the same file; checked when written.
            return None if sobject.lower().endswith("__c") else f"unknown sObject {sobject!r}"
        if obj.kind != "records":
            return f"{obj.name} records come from the directory sections, not [[records]]"
        unknown = [k for k in values if obj.field(k) is None and not k.lower().endswith("__c")]
        return f"{obj.name} has no field {unknown[0]!r}" if unknown else None

    def seed_record(self, org_id: str, owner_id: str, sobject: str,
                    values: Mapping[str, Any]) -> bool:
        principal = Principal(org_id, owner_id, "seed", None, None, ("api",), _SYSTEM, "")
        records = self.data.records
        obj = records.object(principal, sobject)
        match = next((obj.field(k) for k in values if obj.field(k) is not None
                      and obj.field(k).flag("externalId")), None) or obj.name_field  # type: ignore[union-attr]
        if match is not None:
            value = next((v for k, v in values.items() if k.lower() == match.key), None)
            if value is not None and self.data.store.find_ids(obj, org_id, match, value, 1):
                return False
        try:
            records.create(principal, obj.name, dict(values))
        except ApiError as exc:
            raise ValueError(f"{sobject} record {dict(values)}: {exc.message}") from exc
        return True
