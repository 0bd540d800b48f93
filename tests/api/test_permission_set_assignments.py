"""PermissionSetAssignment: the directory's user <-> permission set links as an sObject that
administrators create and delete over the data API (what ``sf org assign permset`` does), and
that changes the assignee's access on their next call."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both

from localforce.domain import ids
from localforce.domain.models import ObjectPermissions, PermissionSet

INSUFFICIENT = [{"message": "insufficient access rights on cross-reference id",
                 "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}]


@pytest.fixture
def readers(services, org):
    """A permission set granting read on Account, assigned to nobody yet."""
    ps = PermissionSet(ids.new_id("0PS"), org.id, "AccountReaders",
                       objects=ObjectPermissions({"Account": frozenset({"read"})}))
    services.directory.store.save_permission_set(ps)
    return ps


def test_assigning_a_permission_set_grants_its_access_within_a_second(api, make_user, api_as,
                                                                     readers, clock):
    api.post("/sobjects/Account", {"Name": "Acme"})
    user = make_user()
    as_user = api_as(user)
    assert as_user.query("SELECT Id FROM Account").json()[0]["errorCode"] == "INVALID_TYPE"

    r = api.post("/sobjects/PermissionSetAssignment",
                 {"AssigneeId": user.user_id, "PermissionSetId": readers.id})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"].startswith("0Pa") and ids.is_valid(created["id"])
    assert created == {"id": created["id"], "success": True, "errors": []}
    clock.advance(1)  # the bound of the per-process session cache (oauth/sessions.py)
    assert as_user.query("SELECT Id FROM Account").json()["totalSize"] == 1

    assert api.delete(f"/sobjects/PermissionSetAssignment/{created['id']}").status_code == 204
    clock.advance(1)
    assert as_user.query("SELECT Id FROM Account").json()[0]["errorCode"] == "INVALID_TYPE"


def test_assignments_read_like_salesforce(api, make_user, readers, services):
    user = make_user()
    made = api.post("/sobjects/PermissionSetAssignment",
                    {"AssigneeId": user.user_id, "PermissionSetId": readers.id}).json()["id"]
    got = api.get(f"/sobjects/PermissionSetAssignment/{made}").json()
    assert {k: got[k] for k in ("Id", "AssigneeId", "PermissionSetId", "PermissionSetGroupId",
                                "IsActive", "IsRevoked", "ExpirationDate")} == {
        "Id": made, "AssigneeId": user.user_id, "PermissionSetId": readers.id,
        "PermissionSetGroupId": None, "IsActive": True, "IsRevoked": False,
        "ExpirationDate": None}
    assert got["attributes"] == {
        "type": "PermissionSetAssignment",
        "url": f"/services/data/v59.0/sobjects/PermissionSetAssignment/{made}"}

    rows = api.query("SELECT Id, Assignee.Username, PermissionSet.Name FROM "
                     f"PermissionSetAssignment WHERE AssigneeId = '{user.user_id}'").json()
    assert rows["totalSize"] == 1
    assert rows["records"][0]["Assignee"]["Username"] == user.username
    assert rows["records"][0]["PermissionSet"]["Name"] == "AccountReaders"
    # CumulusCI's check before assigning: the user's assignments as a subquery.
    nested = api.query("SELECT Id, (SELECT PermissionSetId FROM PermissionSetAssignments) "
                       f"FROM User WHERE Id = '{user.user_id}'").json()
    assert nested["records"][0]["PermissionSetAssignments"]["records"][0][
        "PermissionSetId"] == readers.id
    # Assignments made outside the API (CLI, seed file, Setup) are the same rows.
    stored = services.directory.store.find_assignment(user.user_id, readers.id)
    assert stored is not None and stored.id == made


def test_an_assignment_keeps_its_id_when_the_user_is_saved_again(api, make_user, readers,
                                                                   services):
    user = make_user()
    made = api.post("/sobjects/PermissionSetAssignment",
                    {"AssigneeId": user.user_id, "PermissionSetId": readers.id}).json()["id"]
    stored = services.directory.store.get_user(user.user_id)
    services.directory.set_active(stored, True)
    assert services.directory.store.find_assignment(user.user_id, readers.id).id == made


def test_each_assignment_change_is_in_the_setup_audit_trail(api, admin, make_user, readers,
                                                            clock):
    user = make_user()
    made = api.post("/sobjects/PermissionSetAssignment",
                    {"AssigneeId": user.user_id, "PermissionSetId": readers.id}).json()["id"]
    clock.advance(1)
    api.delete(f"/sobjects/PermissionSetAssignment/{made}")
    trail = api.query("SELECT Action, Display, CreatedById FROM SetupAuditTrail "
                      "WHERE Action IN ('PermSetAssign', 'PermSetUnassign') "
                      "ORDER BY CreatedDate").json()["records"]
    assert [(r["Action"], r["Display"], r["CreatedById"]) for r in trail] == [
        ("PermSetAssign", f"Permission set AccountReaders: assigned to user {user.username}",
         admin.user_id),
        ("PermSetUnassign",
         f"Permission set AccountReaders: unassigned from user {user.username}", admin.user_id)]


def test_a_user_without_manage_users_cannot_assign_themselves_anything(make_user, api_as,
                                                                      readers, services):
    user = make_user(grants={"Account": ["read", "create", "edit", "delete"]})
    r = api_as(user).post("/sobjects/PermissionSetAssignment",
                          {"AssigneeId": user.user_id, "PermissionSetId": readers.id})
    assert (r.status_code, r.json()) == (403, INSUFFICIENT)
    assert services.directory.store.find_assignment(user.user_id, readers.id) is None


def test_a_user_without_manage_users_cannot_take_an_assignment_away(api, make_user, api_as,
                                                                   readers):
    user = make_user(grants={"Account": ["read"]})
    made = api.post("/sobjects/PermissionSetAssignment",
                    {"AssigneeId": user.user_id, "PermissionSetId": readers.id}).json()["id"]
    r = api_as(user).delete(f"/sobjects/PermissionSetAssignment/{made}")
    assert (r.status_code, r.json()) == (403, INSUFFICIENT)
    assert api.get(f"/sobjects/PermissionSetAssignment/{made}").status_code == 200


def test_a_duplicate_assignment_is_refused(api, make_user, readers):
    user = make_user()
    body = {"AssigneeId": user.user_id, "PermissionSetId": readers.id}
    assert api.post("/sobjects/PermissionSetAssignment", body).status_code == 201
    r = api.post("/sobjects/PermissionSetAssignment", body)
    assert (r.status_code, r.json()) == (400, [{
        "message": f"Duplicate PermissionSetAssignment. Assignee: {user.user_id}, "
                   f"PermissionSet: {readers.id}",
        "errorCode": "DUPLICATE_VALUE", "fields": []}])


def test_ids_of_another_org_or_of_nothing_are_refused(api, services, make_user, readers):
    other = services.directory.create_org("Other")
    foreign = PermissionSet(ids.new_id("0PS"), other.id, "Theirs")
    services.directory.store.save_permission_set(foreign)
    user = make_user()
    r = api.post("/sobjects/PermissionSetAssignment",
                 {"AssigneeId": user.user_id, "PermissionSetId": foreign.id})
    assert (r.status_code, r.json()) == (400, [{
        "message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY",
        "fields": ["PermissionSetId"]}])
    r = api.post("/sobjects/PermissionSetAssignment",
                 {"AssigneeId": ids.new_id("005"), "PermissionSetId": readers.id})
    assert (r.status_code, r.json()) == (400, [{
        "message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY",
        "fields": ["AssigneeId"]}])
    r = api.post("/sobjects/PermissionSetAssignment", {"PermissionSetId": readers.id})
    assert r.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert services.directory.store.find_assignment(user.user_id, foreign.id) is None


def test_assignments_cannot_be_updated_and_other_directory_objects_stay_read_only(
        api, make_user, readers):
    user = make_user()
    made = api.post("/sobjects/PermissionSetAssignment",
                    {"AssigneeId": user.user_id, "PermissionSetId": readers.id}).json()["id"]
    r = api.patch(f"/sobjects/PermissionSetAssignment/{made}",
                  {"ExpirationDate": "2030-01-01T00:00:00.000+0000"})
    assert (r.status_code, r.json()[0]["errorCode"]) == (403, "INSUFFICIENT_ACCESS_OR_READONLY")
    r = api.delete(f"/sobjects/User/{user.user_id}")
    assert (r.status_code, r.json()[0]["message"]) == (403, "entity is read-only")


def test_deleting_an_unknown_assignment_is_not_found(api):
    r = api.delete(f"/sobjects/PermissionSetAssignment/{ids.new_id('0Pa')}")
    assert (r.status_code, r.json()[0]["errorCode"]) == (404, "NOT_FOUND")
    r = api.delete(f"/sobjects/PermissionSetAssignment/{ids.new_id('001')}")
    assert (r.status_code, r.json()[0]["errorCode"]) == (400, "MALFORMED_ID")


def test_assignments_in_an_all_or_none_transaction_are_refused_and_nothing_is_written(
        api, make_user, readers, services):
    user = make_user()
    r = api.post("/composite/sobjects", {"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "Acme"},
        {"attributes": {"type": "PermissionSetAssignment"}, "AssigneeId": user.user_id,
         "PermissionSetId": readers.id}]})
    assert r.status_code == 200
    assert [row["success"] for row in r.json()] == [False, False]
    assert r.json()[1]["errors"][0]["statusCode"] == "MIXED_DML_OPERATION"
    assert services.directory.store.find_assignment(user.user_id, readers.id) is None
    assert api.query("SELECT Id FROM Account").json()["totalSize"] == 0
