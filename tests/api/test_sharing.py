"""Record-level access: the org-wide defaults (Private, Public Read Only, Public Read/Write)
and record ownership, on every data path; each rule is tried by a user it refuses."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both
from tests.api.conftest import principal_of

from localforce.directory.seed import apply_seed
from localforce.domain import ids
from localforce.domain.models import (
    PRIVATE,
    PUBLIC_READ_ONLY,
    PUBLIC_READ_WRITE,
    ObjectPermissions,
    PermissionSet,
)

CRUD = ["read", "create", "edit", "delete"]
NO_ACCESS = [{"message": "insufficient access rights on object id",
              "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}]
NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


@pytest.fixture
def share(services, org, clock):
    """Set an object's org-wide default as an admin would; seen after the caches' second."""
    def set_level(sobject: str, level: str) -> None:
        current = services.directory.store.get_org(org.id)
        services.directory.set_sharing(current, sobject, level)
        clock.advance(1)

    return set_level


@pytest.fixture
def alice(make_user, api_as):
    return api_as(make_user("Standard User"))


@pytest.fixture
def bob(make_user, api_as):
    return api_as(make_user("Standard User"))


def owned_account(api, name: str) -> str:
    return api.post("/sobjects/Account", {"Name": name}).json()["id"]


def test_public_read_write_is_the_default_and_changes_nothing(alice, bob):
    theirs = owned_account(alice, "Alice's")
    assert bob.query("SELECT Name FROM Account").json()["totalSize"] == 1
    assert bob.patch(f"/sobjects/Account/{theirs}", {"Name": "Edited"}).status_code == 204
    assert bob.delete(f"/sobjects/Account/{theirs}").status_code == 204


def test_private_hides_other_owners_records_on_every_read_path(alice, bob, share):
    share("Account", PRIVATE)
    theirs, mine = owned_account(alice, "Alice's"), owned_account(bob, "Bob's")
    contact = alice.post("/sobjects/Contact", {"LastName": "C", "AccountId": theirs}).json()["id"]
    # Bob may not point a record at a parent he cannot see.
    r = bob.post("/sobjects/Contact", {"LastName": "D", "AccountId": theirs})
    assert (r.status_code, r.json()) == (400, [{
        "message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY",
        "fields": ["AccountId"]}])

    rows = bob.query("SELECT Name FROM Account").json()
    assert [r["Name"] for r in rows["records"]] == ["Bob's"]
    assert bob.query("SELECT COUNT() FROM Account").json()["totalSize"] == 1
    assert bob.get(f"/sobjects/Account/{theirs}").json() == NOT_FOUND
    assert bob.get(f"/sobjects/Account/{mine}").status_code == 200
    got = bob.get("/composite/sobjects/Account", params={"ids": f"{theirs},{mine}",
                                                          "fields": "Name"}).json()
    assert got[0] is None and got[1]["Name"] == "Bob's"
    # A parent of another owner reads as null; its id is still the lookup's value.
    row = bob.query(f"SELECT AccountId, Account.Name FROM Contact WHERE Id = '{contact}'"
                    ).json()["records"][0]
    assert (row["AccountId"], row["Account"]) == (theirs, None)
    assert bob.query("SELECT Id FROM Contact WHERE Account.Name = 'Alice\\'s'"
                     ).json()["totalSize"] == 0
    assert bob.query("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)"
                     ).json()["totalSize"] == 0
    # The owner sees their own parent.
    assert alice.query(f"SELECT Account.Name FROM Contact WHERE Id = '{contact}'"
                       ).json()["records"][0]["Account"]["Name"] == "Alice's"
    # Other objects keep their own default.
    assert bob.query("SELECT Id FROM Contact").json()["totalSize"] == 1


def test_private_refuses_edit_and_delete_of_other_owners_records(alice, bob, share, api):
    share("Account", PRIVATE)
    theirs = owned_account(alice, "Alice's")
    r = bob.patch(f"/sobjects/Account/{theirs}", {"Name": "Mine now"})
    assert (r.status_code, r.json()) == (403, NO_ACCESS)
    r = bob.delete(f"/sobjects/Account/{theirs}")
    assert (r.status_code, r.json()) == (403, NO_ACCESS)
    r = bob.patch("/composite/sobjects", {"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "id": theirs, "Name": "Mine now"}]})
    assert r.json()[0]["errors"][0]["statusCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert api.get(f"/sobjects/Account/{theirs}").json()["Name"] == "Alice's"


def test_public_read_only_lets_others_read_but_not_edit(alice, bob, share):
    share("Account", PUBLIC_READ_ONLY)
    theirs = owned_account(alice, "Alice's")
    assert bob.get(f"/sobjects/Account/{theirs}").json()["Name"] == "Alice's"
    assert bob.query("SELECT Name FROM Account").json()["totalSize"] == 1
    r = bob.patch(f"/sobjects/Account/{theirs}", {"Name": "Edited"})
    assert (r.status_code, r.json()) == (403, NO_ACCESS)
    assert bob.delete(f"/sobjects/Account/{theirs}").json() == NO_ACCESS
    assert alice.patch(f"/sobjects/Account/{theirs}", {"Name": "Edited"}).status_code == 204


def test_view_all_and_modify_all_see_past_the_default(make_user, api_as, alice, share):
    share("Account", PRIVATE)
    theirs = owned_account(alice, "Alice's")
    viewer = api_as(make_user(grants={"Account": ["read", "view_all", "edit"]}))
    assert viewer.get(f"/sobjects/Account/{theirs}").status_code == 200
    assert viewer.patch(f"/sobjects/Account/{theirs}", {"Name": "X"}).json() == NO_ACCESS
    modifier = api_as(make_user(grants={"Account": ["modify_all"]}))
    assert modifier.patch(f"/sobjects/Account/{theirs}", {"Name": "X"}).status_code == 204
    assert modifier.delete(f"/sobjects/Account/{theirs}").status_code == 204


def test_taking_over_another_users_record_needs_transfer_record(alice, bob, api, services,
                                                                 make_user, api_as):
    """The attack: a Standard User sets OwnerId to themselves on someone else's record."""
    theirs = owned_account(alice, "Alice's")
    alice_id = api.get(f"/sobjects/Account/{theirs}").json()["OwnerId"]
    bob_id = bob.query("SELECT Id FROM User WHERE Username LIKE 'user%' ORDER BY Username DESC "
                       "LIMIT 1").json()["records"][0]["Id"]
    r = bob.patch(f"/sobjects/Account/{theirs}", {"OwnerId": bob_id})
    assert (r.status_code, r.json()) == (403, NO_ACCESS)
    assert api.get(f"/sobjects/Account/{theirs}").json()["OwnerId"] == alice_id
    # Upsert by Id takes the same path.
    r = bob.patch(f"/sobjects/Account/Id/{theirs}", {"OwnerId": bob_id})
    assert (r.status_code, r.json()) == (403, NO_ACCESS)
    # The owner may give their record away; an admin may move any record.
    assert alice.patch(f"/sobjects/Account/{theirs}", {"OwnerId": bob_id}).status_code == 204
    assert api.patch(f"/sobjects/Account/{theirs}", {"OwnerId": alice_id}).status_code == 204
    # Other edits by a non-owner under Public Read/Write stay allowed.
    assert bob.patch(f"/sobjects/Account/{theirs}", {"Name": "Renamed"}).status_code == 204


def test_a_permission_set_with_transfer_record_may_move_records(services, org, alice,
                                                                api_as, api):
    services.directory.store.save_permission_set(PermissionSet(
        ids.new_id("0PS"), org.id, "Movers", transfer_record=True,
        objects=ObjectPermissions({"Account": frozenset(CRUD)})))
    user, _ = services.directory.create_user(org.id, "mover@acme.test", "Passw0rd-long!",
                                             "Standard User", permission_sets=("Movers",))
    mover = api_as(principal_of(services, user))
    assert api.query("SELECT PermissionsTransferAnyEntity FROM PermissionSet WHERE "
                     "Name = 'Movers'").json()["records"][0]["PermissionsTransferAnyEntity"]
    assert api.query("SELECT Name FROM Profile WHERE PermissionsTransferAnyEntity = true"
                     ).json()["records"] == [{"attributes": {
                         "type": "Profile", "url": ANY}, "Name": "System Administrator"}]
    theirs = owned_account(alice, "Alice's")
    assert mover.patch(f"/sobjects/Account/{theirs}", {"OwnerId": user.id}).status_code == 204
    assert api.get(f"/sobjects/Account/{theirs}").json()["OwnerId"] == user.id


def test_org_wide_defaults_come_from_the_seed_and_are_audited(services):
    seed = {"org": {"name": "Shared", "sharing": {"Account": "Private",
                                                  "Opportunity": "Public Read Only"}}}
    report = apply_seed(services.directory, seed)
    org = services.directory.store.get_org(report.org.id)
    assert org.sharing.level("account") == PRIVATE
    assert org.sharing.level("Opportunity") == PUBLIC_READ_ONLY
    assert org.sharing.level("Case") == PUBLIC_READ_WRITE
    trail = services.directory.store.list_setup_changes(org.id)
    assert {c.display for c in trail if c.action == "changedSharingDefault"} == {
        "Changed Account organization-wide default from Public Read/Write to Private",
        "Changed Opportunity organization-wide default from Public Read/Write to "
        "Public Read Only"}
    apply_seed(services.directory, seed)  # applied again: nothing changes
    assert len(services.directory.store.list_setup_changes(org.id)) == len(trail)
    with pytest.raises(ValueError, match="sharing"):
        apply_seed(services.directory, {"org": {"name": "Shared",
                                                "sharing": {"Account": "Public"}}})


def test_using_scope_mine_returns_the_callers_own_records(alice, bob):
    """Issue #22: USING SCOPE was parsed and ignored (every row came back)."""
    owned_account(alice, "Alice's")
    owned_account(bob, "Bob's")
    for soql, names in (("SELECT Name FROM Account USING SCOPE mine", ["Bob's"]),
                        ("SELECT Name FROM Account USING SCOPE Mine", ["Bob's"]),
                        ("SELECT Name FROM Account USING SCOPE everything ORDER BY Name",
                         ["Alice's", "Bob's"])):
        rows = bob.query(soql).json()["records"]
        assert [r["Name"] for r in rows] == names, soql
    # The same text from the other user is their own rows (no plan is shared between users).
    assert [r["Name"] for r in alice.query("SELECT Name FROM Account USING SCOPE mine"
                                           ).json()["records"]] == ["Alice's"]
    assert bob.query("SELECT COUNT() FROM Account USING SCOPE mine").json()["totalSize"] == 1


def test_a_scope_the_object_or_server_does_not_have_is_refused(bob):
    for soql in ("SELECT Id FROM Account USING SCOPE my_territory",
                 "SELECT Id FROM Account USING SCOPE team",
                 "SELECT Id FROM User USING SCOPE mine"):
        r = bob.query(soql)
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "MALFORMED_QUERY", soql
        assert "is not supported for" in r.json()[0]["message"]
