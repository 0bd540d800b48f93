"""PermissionSetAssignment writes: the one directory object the data API creates and deletes
(``sf org assign permset`` inserts it). The row lives in the directory, so an assignment
changes the user's access on their next call; reads go through the directory binding like
every other directory object.

Who may: users with Manage Users (Salesforce: "Assign Permission Sets").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from localforce.data.errors import BadRequest, InsufficientAccess, NotFound
from localforce.directory.audit import Actor
from localforce.directory.service import AlreadyAssigned, DirectoryError
from localforce.domain import ids
from localforce.domain.models import Assignment, User
from localforce.domain.principal import Principal

SOBJECT = "PermissionSetAssignment"


class AssignmentLookup(Protocol):
    """The reads before a write: the assignee and the assignment to delete."""

    def get_user(self, user_id: str) -> User | None: ...
    def get_assignment(self, assignment_id: str) -> Assignment | None: ...


class PermissionAssigner(Protocol):
    """The directory's writes by its rules (``directory.service.Directory``), as one actor."""

    def as_actor(self, actor: Actor) -> PermissionAssigner: ...
    def assign_permission_set(self, user_id: str, permission_set_id: str) -> Assignment: ...
    def unassign_permission_set(self, assignment: Assignment) -> None: ...


class AssignmentWrites:
    def __init__(self, assigner: PermissionAssigner, lookup: AssignmentLookup) -> None:
        self.assigner, self.lookup = assigner, lookup

    def _as(self, principal: Principal) -> PermissionAssigner:
        if not principal.access.manage_users:
            raise InsufficientAccess("insufficient access rights on cross-reference id")
        return self.assigner.as_actor(Actor(principal.user_id, "API"))

    def create(self, principal: Principal, values: Mapping[str, Any]) -> str:
        directory = self._as(principal)
        user_id, ps_id = values.get("AssigneeId"), values.get("PermissionSetId")
        if not ps_id:
            raise BadRequest("REQUIRED_FIELD_MISSING",
                             "Required fields are missing: [PermissionSetId]",
                             ["PermissionSetId"])
        user = self.lookup.get_user(str(user_id))
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
        found = self.lookup.get_assignment(ids.to18(record_id))
        if found is None or found.org_id != principal.org_id:
            raise NotFound()
        directory.unassign_permission_set(found)
