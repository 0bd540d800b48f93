"""PermissionSetAssignment writes: the one directory object the data API creates and deletes
(``sf org assign permset`` inserts it). The row lives in the directory, so an assignment
changes the user's access on their next call; reads go through the directory binding like
every other directory object.

Who may: users with Manage Users (Salesforce: "Assign Permission Sets").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localforce.data.errors import BadRequest, InsufficientAccess, NotFound
from localforce.directory.audit import Actor
from localforce.directory.service import AlreadyAssigned, Directory, DirectoryError
from localforce.domain import ids
from localforce.domain.principal import Principal

SOBJECT = "PermissionSetAssignment"


class AssignmentWrites:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def _as(self, principal: Principal) -> Directory:
        if not principal.access.manage_users:
            raise InsufficientAccess("insufficient access rights on cross-reference id")
        return self.directory.as_actor(Actor(principal.user_id, "API"))

    def create(self, principal: Principal, values: Mapping[str, Any]) -> str:
        directory = self._as(principal)
        user_id, ps_id = values.get("AssigneeId"), values.get("PermissionSetId")
        if not ps_id:
            raise BadRequest("REQUIRED_FIELD_MISSING",
                             "Required fields are missing: [PermissionSetId]",
                             ["PermissionSetId"])
        user = directory.store.get_user(str(user_id))
        if user is None or user.org_id != principal.org_id:
            raise BadRequest("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                             ["AssigneeId"])
        try:
            return directory.assign_permission_set(user.id, str(ps_id)).id
        except AlreadyAssigned:
            raise BadRequest("DUPLICATE_VALUE", f"Duplicate PermissionSetAssignment. Assignee: "
                             f"{user.id}, PermissionSet: {ps_id}", []) from None
        except DirectoryError:
            raise BadRequest("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                             ["PermissionSetId"]) from None

    def delete(self, principal: Principal, record_id: str) -> None:
        directory = self._as(principal)
        found = directory.store.get_assignment(ids.to18(record_id))
        if found is None or found.org_id != principal.org_id:
            raise NotFound()
        directory.unassign_permission_set(found)
