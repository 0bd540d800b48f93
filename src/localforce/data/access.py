"""The security model on every data-API call: API scope, API Enabled, object permissions.

Object permissions come from the user's profile plus permission sets (``Access.can``), with
View All Data / Modify All Data. Salesforce hides an object the user cannot read: a query on it
fails with INVALID_TYPE and its REST resources answer NOT_FOUND, exactly as for an object that
does not exist. Create, edit and delete without the permission fail with
INSUFFICIENT_ACCESS_OR_READONLY. Directory objects (User, Organization, Profile,
PermissionSet...) are readable by every API user and writable by none through this API, except
PermissionSetAssignment (created and deleted by users with Manage Users).

Record-level access (sharing) follows the org-wide default of each object with an owner:
Public Read/Write (the default) opens every record to everyone with the object permission;
Public Read Only lets others read but only the owner edit and delete; Private hides other
owners' records (queries skip them, parents read as null, retrieve answers NOT_FOUND). View
All / Modify All on the object (or View All Data / Modify All Data) see and edit every record.
Giving a record to another owner needs ownership, Transfer Record or Modify All.
"""

from __future__ import annotations

from typing import Any

from localforce.data.errors import (
    ApiDisabled,
    InsufficientAccess,
    InvalidSessionId,
    NotFound,
)
from localforce.data.schema import FieldDef, ObjectDef
from localforce.domain.models import PRIVATE, PUBLIC_READ_WRITE
from localforce.domain.principal import Principal

API_SCOPES = frozenset({"api", "full"})
NOT_REST = "This session is not valid for use with the REST API"

#: DML verbs -> object permission names (models.OBJECT_PERMISSIONS).
PERMISSIONS = {"create": "create", "update": "edit", "delete": "delete"}


def require_api(principal: Principal) -> None:
    """The token must carry ``api`` or ``full``; the user's profile must allow API access."""
    if API_SCOPES.isdisjoint(principal.scopes):
        # jsforce does not retry a 401 whose body says this (clients.md §1 row 13).
        raise InvalidSessionId(NOT_REST)
    if not principal.access.api_enabled:
        raise ApiDisabled()


#: The field naming a record's owner, which record-level access (sharing) is decided by.
OWNER = "OwnerId"
NO_RECORD_ACCESS = "insufficient access rights on object id"

#: Audit objects only administrators read (Salesforce: "View Setup and Configuration"; here
#: Manage Users or View All Data).
ADMIN_OBJECTS = frozenset({"setupaudittrail"})
#: Objects whose rows belong to a user, by the field naming them: every user reads their own
#: rows, administrators everyone's (Object Reference, LoginHistory, "Special Access Rules":
#: Manage Users, except that "in API version 37.0 and later, all users can retrieve their own
#: login history records").
OWN_ROWS = {"loginhistory": "UserId"}


def sees_every_row(principal: Principal) -> bool:
    return principal.access.manage_users or principal.access.view_all_data


def readable(principal: Principal, obj: ObjectDef) -> bool:
    name = obj.name.lower()
    if name in ADMIN_OBJECTS:
        return sees_every_row(principal)
    if name in OWN_ROWS:
        return True
    return obj.kind == "directory" or principal.access.can(obj.name, "read")


def shared(obj: ObjectDef) -> bool:
    """Whether the org-wide defaults apply: a record object with an owner."""
    return obj.kind == "records" and obj.field(OWNER) is not None


def owner_scope(principal: Principal, obj: ObjectDef) -> tuple[FieldDef, str] | None:
    """The field and value ``obj``'s rows are limited to for this caller (its own rows), or
    ``None`` when every row is visible. Queries filter on it (parents of other owners read as
    null); retrieve by Id checks it."""
    name = OWN_ROWS.get(obj.name.lower())
    if name is not None:
        if sees_every_row(principal):
            return None
    elif (shared(obj) and principal.access.sharing.level(obj.name) == PRIVATE
          and not principal.access.sees_all(obj.name)):
        name = OWNER
    else:
        return None
    f = obj.field(name)
    if f is None:  # never fall back to every row
        raise LookupError(f"{obj.name} has no {name} field")
    return f, principal.user_id


def require_record_access(principal: Principal, obj: ObjectDef, owner: str | None) -> None:
    """Edit or delete one record: its owner may, and so may everyone under Public
    Read/Write or with Modify All; under Private and Public Read Only nobody else."""
    if not shared(obj) or owner == principal.user_id or principal.access.edits_all(obj.name):
        return
    if principal.access.sharing.level(obj.name) != PUBLIC_READ_WRITE:
        raise InsufficientAccess(NO_RECORD_ACCESS)


def require_transfer(principal: Principal, obj: ObjectDef, owner: str | None,
                     new_owner: Any) -> None:
    """Changing a record's owner: its owner may give it away; anyone else needs Transfer
    Record or Modify All on the object (Salesforce's "Transfer Records")."""
    if not shared(obj) or new_owner is None or new_owner == owner:
        return
    if owner == principal.user_id or principal.access.transfer_record \
            or principal.access.edits_all(obj.name):
        return
    raise InsufficientAccess(NO_RECORD_ACCESS)


def require_visible(principal: Principal, obj: ObjectDef | None) -> ObjectDef:
    if obj is None or not readable(principal, obj):
        raise NotFound()
    return obj


def require_write(principal: Principal, obj: ObjectDef, verb: str) -> None:
    """``verb`` is create, update or delete."""
    allowed = obj.flag({"create": "createable", "update": "updateable",
                        "delete": "deletable"}[verb])
    if not allowed:
        raise InsufficientAccess("entity is read-only")
    if obj.kind == "directory":
        return  # a directory write (schema.DIRECTORY_WRITES) checks its own permission
    if not principal.access.can(obj.name, PERMISSIONS[verb]):
        raise InsufficientAccess("insufficient access rights on object id")
