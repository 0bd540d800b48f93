"""Where each sObject's rows live in SQL: one table per record object, or a directory table.

Record objects (Account, Contact, ``Thing__c``...) get a table ``sobject_<name>`` with one
column per stored field, named after the field, plus ``org_id``; indexes on (org_id, IsDeleted,
Id) for paging, ``lower(Name)`` for name lookups, every lookup field and every external ID.

Directory-backed sObjects (User, Organization, Profile, PermissionSet, PermissionSetAssignment)
are *bindings*: a field -> column mapping over the directory's own tables, read here (the few
writable ones are written through the directory's service). Another area adds one (e.g.
LoginHistory over ``login_history``) with :func:`register_binding`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    false,
    func,
    literal,
    null,
)
from sqlalchemy.sql import FromClause

from localforce.data.schema import FieldDef, ObjectDef
from localforce.data.values import epoch_to_wire, wire_to_epoch
from localforce.storage.sql import tables as t

ColumnBuilder = Callable[[FromClause], ColumnElement[Any]]


def table_name(sobject: str) -> str:
    return "sobject_" + sobject.lower()


def column_type(f: FieldDef) -> Any:
    kind = f.type
    if kind in ("id", "reference"):
        return String(18)
    if kind == "boolean":
        return Boolean
    if kind == "int":
        return Integer
    if kind == "long":
        return BigInteger
    if kind in ("double", "currency", "percent"):
        return Float
    if kind == "date":
        return String(10)
    if kind == "datetime":
        return String(28)
    return Text


def record_table(obj: ObjectDef, metadata: MetaData | None = None) -> Table:
    """The SQLAlchemy Table of a record object (not bound to the migrations' metadata)."""
    metadata = metadata or MetaData()
    name = table_name(obj.name)
    columns = [Column("org_id", String(18), nullable=False)]
    for f in obj.stored_fields:
        if f.name == "Id":
            columns.append(Column("Id", String(18), primary_key=True))
        else:
            columns.append(Column(f.name, column_type(f), nullable=True))
    table = Table(name, metadata, *columns)
    record_indexes(obj, table)  # an Index over a table's columns attaches itself to it
    return table


def record_indexes(obj: ObjectDef, table: Table) -> list[Index]:
    """Indexes SOQL relies on: paging, ``Name =``, lookups and external IDs."""
    out = [Index(_ix(table, "page"), table.c.org_id, table.c.IsDeleted, table.c.Id)]
    for f in obj.stored_fields:
        if f.name not in table.c:
            continue
        column = table.c[f.name]
        # Trailing (IsDeleted, Id) serves the scope and the Id tie-break order, so the planner
        # prefers these over the paging index for ``=`` lookups.
        tail = (table.c.IsDeleted, table.c.Id)
        if f.flag("nameField") or (f.flag("externalId") and f.type != "double"):
            out.append(Index(_ix(table, f.name), table.c.org_id, func.lower(column), *tail))
        elif f.type == "reference" or f.flag("externalId"):
            # Partial: a row whose lookup is null is not in it, as Salesforce's indexes
            # leave out nulls (``= null`` is not selective there either). Most lookups of a
            # Bulk load are null (ParentId, MasterRecordId...), and each index a row enters
            # costs the insert time (bench/README.md); ``= x``, ``IN (…)`` and ``!= null``
            # imply ``IS NOT NULL``, so both databases still use it for them.
            where = column.isnot(None)
            out.append(Index(_ix(table, f.name), table.c.org_id, column, *tail,
                             sqlite_where=where, postgresql_where=where))
    return out


def _ix(table: Table, what: str) -> str:
    return f"ix_{table.name}_{what.lower()}"[:63]


# -- directory bindings --------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """A read-only sObject over an existing table.

    ``columns`` maps field names to a column name or to a builder of an expression over the
    aliased table; ``epoch`` lists datetime fields stored as epoch numbers (value: units per
    second, 1 or 1000). Unmapped fields read as null (booleans as false).
    """

    table: Table
    org_column: str
    columns: dict[str, str | ColumnBuilder]
    epoch: dict[str, int] = field(default_factory=dict)
    id_column: str = "id"

    def column(self, alias: FromClause, f: FieldDef) -> ColumnElement[Any]:
        spec = self.columns.get(f.name)
        if spec is None:
            return false() if f.type == "boolean" else null()
        if isinstance(spec, str):
            return alias.c[spec]
        return spec(alias)

    def to_db(self, f: FieldDef, value: Any) -> Any:
        if f.name in self.epoch and isinstance(value, str):
            return int(wire_to_epoch(value) * self.epoch[f.name])
        return value

    def from_db(self, f: FieldDef, value: Any) -> Any:
        if f.name in self.epoch and value is not None:
            return epoch_to_wire(value / self.epoch[f.name])
        return value


def _const(value: Any) -> ColumnBuilder:
    return lambda _alias: literal(value)


def _user_name(alias: FromClause) -> ColumnElement[Any]:
    first, last = alias.c.first_name, alias.c.last_name
    return case((first.is_(None), last), else_=first + literal(" ") + last)


_AUDIT = {"CreatedDate": "created_at", "LastModifiedDate": "modified_at",
          "SystemModstamp": "modified_at"}
_EPOCH = {name: 1 for name in _AUDIT}

BINDINGS: dict[str, Binding] = {
    "User": Binding(t.users, "org_id", {
        "Id": "id", "Username": "username", "LastName": "last_name", "FirstName": "first_name",
        "Name": _user_name, "Email": "email", "IsActive": "active", "ProfileId": "profile_id",
        "TimeZoneSidKey": "time_zone", "LocaleSidKey": "locale", "LanguageLocaleKey": "language",
        "LastLoginDate": "last_login_at", "NumberOfFailedLogins": "failed_logins",
        "UserType": _const("Standard"), "EmailEncodingKey": _const("UTF-8"), **_AUDIT},
        {**_EPOCH, "LastLoginDate": 1}),
    "Organization": Binding(t.orgs, "id", {
        "Id": "id", "Name": "name", "InstanceName": _const("LOCAL"),
        "IsSandbox": _const(False), "OrganizationType": _const("Developer Edition"),
        "TimeZoneSidKey": _const("America/Los_Angeles"), "LanguageLocaleKey": _const("en_US"),
        "DefaultLocaleSidKey": _const("en_US"), "FiscalYearStartMonth": _const(1), **_AUDIT},
        _EPOCH),
    "Profile": Binding(t.profiles, "org_id", {
        "Id": "id", "Name": "name", "PermissionsApiEnabled": "api_enabled",
        "PermissionsViewAllData": "view_all_data", "PermissionsModifyAllData": "modify_all_data",
        "PermissionsManageUsers": "manage_users",
        "PermissionsTransferAnyEntity": "transfer_record",
        "PermissionsBulkApiHardDelete": "bulk_api_hard_delete", "UserType": _const("Standard"),
        **_AUDIT},
        _EPOCH),
    "PermissionSet": Binding(t.permission_sets, "org_id", {
        "Id": "id", "Name": "name", "Label": "label", "IsCustom": _const(True),
        "PermissionsApiEnabled": "api_enabled", "PermissionsViewAllData": "view_all_data",
        "PermissionsModifyAllData": "modify_all_data", "PermissionsManageUsers": "manage_users",
        "PermissionsTransferAnyEntity": "transfer_record",
        "PermissionsBulkApiHardDelete": "bulk_api_hard_delete", **_AUDIT}, _EPOCH),
    # Written through the directory (data/assignments.py), read here like the others.
    "PermissionSetAssignment": Binding(t.user_permission_sets, "org_id", {
        "Id": "id", "AssigneeId": "user_id", "PermissionSetId": "permission_set_id",
        "SystemModstamp": "created_at", "IsActive": _const(True), "IsRevoked": _const(False)},
        {"SystemModstamp": 1}),
}


def register_binding(sobject: str, binding: Binding) -> None:
    """Serve another directory-style table as a read-only sObject (its metadata must be in
    ``data/sobjects.json`` and listed in ``schema.DIRECTORY_OBJECTS``)."""
    BINDINGS[sobject] = binding
