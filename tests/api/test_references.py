"""Reference integrity: a lookup or owner names a live record of the caller's org, on every
write path (issue #16: org A could make a user of org B own its Account; lookups took any id)."""

from __future__ import annotations

from tests.api.backends import on_both_backends  # noqa: F401 - runs each test on both
from tests.api.conftest import principal_of

from localforce.domain import ids


def error(code: str, message: str, field: str) -> list[dict[str, object]]:
    return [{"message": message, "errorCode": code, "fields": [field]}]


CROSS = ("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")


def test_an_owner_from_another_org_is_refused(api, services):
    other = services.directory.create_org("Other")
    stranger, _ = services.directory.create_user(other.id, "s@other.test", None, "Standard User")
    r = api.post("/sobjects/Account", {"Name": "Acme", "OwnerId": stranger.id})
    assert (r.status_code, r.json()) == (400, error(*CROSS, "OwnerId"))
    mine = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    r = api.patch(f"/sobjects/Account/{mine}", {"OwnerId": stranger.id})
    assert (r.status_code, r.json()) == (400, error(*CROSS, "OwnerId"))
    assert api.query("SELECT COUNT() FROM Account").json()["totalSize"] == 1


def test_an_inactive_owner_is_refused(api, services, org):
    gone, _ = services.directory.create_user(org.id, "gone@acme.test", None, "Standard User",
                                             active=False)
    r = api.post("/sobjects/Account", {"Name": "Acme", "OwnerId": gone.id})
    assert (r.status_code, r.json()) == (400, error(
        "INACTIVE_OWNER_OR_USER", f"operation performed with inactive user [{gone.id}] as "
        "owner of Account", "OwnerId"))


def test_a_lookup_to_nothing_or_to_a_deleted_record_is_refused(api):
    r = api.post("/sobjects/Contact", {"LastName": "C", "AccountId": ids.new_id("001")})
    assert (r.status_code, r.json()) == (400, error(*CROSS, "AccountId"))
    parent = api.post("/sobjects/Account", {"Name": "Gone"}).json()["id"]
    api.delete(f"/sobjects/Account/{parent}")
    r = api.post("/sobjects/Contact", {"LastName": "C", "AccountId": parent})
    assert (r.status_code, r.json()) == (400, error("ENTITY_IS_DELETED", "entity is deleted",
                                                    "AccountId"))


def test_a_lookup_into_another_org_is_refused_on_every_write_path(api, services):
    other = services.directory.create_org("Other")
    owner, _ = services.directory.create_user(other.id, "o@other.test", None,
                                              "System Administrator")
    theirs = services.data.records.create(principal_of(services, owner), "Account",
                                          {"Name": "Theirs"}).id
    body = {"LastName": "C", "AccountId": theirs}
    assert api.post("/sobjects/Contact", body).json() == error(*CROSS, "AccountId")
    rows = api.post("/composite/sobjects", {"records": [
        {"attributes": {"type": "Contact"}, **body}]}).json()
    assert rows[0]["success"] is False
    assert rows[0]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert api.query("SELECT COUNT() FROM Contact").json()["totalSize"] == 0


def test_a_live_parent_of_the_org_is_accepted(api):
    parent = api.post("/sobjects/Account", {"Name": "Here"}).json()["id"]
    r = api.post("/sobjects/Contact", {"LastName": "C", "AccountId": parent})
    assert r.status_code == 201
