"""LoginHistory and SetupAuditTrail through the REST API: queryable and read-only. Every user
reads their own LoginHistory rows, Manage Users or View All Data everyone's; SetupAuditTrail is
for those administrators only."""

from __future__ import annotations

from typing import Any

from tests.policies import conftest as policies
from tests.policies.conftest import PASSWORD, SECURITY_TOKEN, World, password_form

key_pair, world = policies.key_pair, policies.world  # shared fixtures

QUERY = "/services/data/v59.0/query"
LOGINS = ("SELECT LoginTime, UserId, LoginType, SourceIp, Status, Application, Browser, "
          "Platform, LoginUrl FROM LoginHistory WHERE UserId = '{}' ORDER BY LoginTime")


def token_for(world: World, username: str, password: str) -> str:
    response = world.token(**password_form(username=username, password=password))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def query(world: World, token: str, soql: str) -> Any:
    return world.client.get(QUERY, params={"q": soql},
                            headers={"Authorization": f"Bearer {token}"})


def test_admin_queries_login_history_of_every_user(world: World) -> None:
    world.services.directory.create_user(world.org.id, "sam@acme.test", "Sam-Pass-1234",
                                         "Standard User", security_token="SAMTOKEN")
    world.token(**password_form(username="sam@acme.test", password="wrong"))
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    sam = world.services.directory.store.find_user("sam@acme.test")
    assert sam is not None
    body = query(world, admin, LOGINS.format(sam.id)).json()
    assert body["totalSize"] == 1 and body["done"] is True
    record = body["records"][0]
    assert record["attributes"]["type"] == "LoginHistory"
    assert {k: v for k, v in record.items() if k != "attributes"} == {
        "LoginTime": "2026-09-21T14:13:20.000+0000", "UserId": sam.id,
        "LoginType": "Remote Access 2.0", "SourceIp": "127.0.0.1", "Status": "Invalid Password",
        "Application": "Acme Integration", "Browser": None, "Platform": None,
        "LoginUrl": "http://testserver/services/oauth2/token"}


def test_setup_audit_trail_is_queryable(world: World) -> None:
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    body = query(world, admin, "SELECT Action, Section, Display, CreatedById FROM "
                               "SetupAuditTrail WHERE Action = 'createdConnectedApp'").json()
    assert [(r["Section"], r["Display"], r["CreatedById"]) for r in body["records"]] == [
        ("Connected Apps", "Created connected app Acme Integration", None)]


def _users_with_logins(world: World) -> tuple[str, str, str]:
    """Sam and Kim (Standard Users) and the admin log in, Sam failing once first; the clock
    moves a second between attempts. Returns (admin, sam, kim) user ids."""
    directory, clock = world.services.directory, world.services.clock
    for name in ("sam", "kim"):
        directory.create_user(world.org.id, f"{name}@acme.test", "Pass-1234", "Standard User",
                              security_token="TOKEN")
    attempts = [("sam@acme.test", "wrong"), ("sam@acme.test", "Pass-1234TOKEN"),
                ("kim@acme.test", "Pass-1234TOKEN"), ("admin@acme.test", PASSWORD + SECURITY_TOKEN)]
    for username, password in attempts:
        world.token(**password_form(username=username, password=password))
        clock.advance(1)  # type: ignore[attr-defined]
    found = [directory.store.find_user(f"{n}@acme.test") for n in ("admin", "sam", "kim")]
    assert all(found)
    return tuple(u.id for u in found if u)  # type: ignore[return-value]


def _rows(world: World, token: str, soql: str) -> list[tuple[Any, ...]]:
    response = query(world, token, soql)
    assert response.status_code == 200, response.text
    return [tuple(v for k, v in r.items() if k != "attributes") for r in response.json()["records"]]


def test_admin_sees_every_users_login_history(world: World) -> None:
    admin_id, sam_id, kim_id = _users_with_logins(world)
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    assert _rows(world, admin, "SELECT UserId, Status FROM LoginHistory ORDER BY LoginTime") == [
        (sam_id, "Invalid Password"), (sam_id, "Success"), (kim_id, "Success"),
        (admin_id, "Success"), (admin_id, "Success")]


def test_a_user_sees_exactly_their_own_login_history(world: World) -> None:
    admin_id, sam_id, kim_id = _users_with_logins(world)
    sam = token_for(world, "sam@acme.test", "Pass-1234TOKEN")
    own = [(sam_id, "Invalid Password"), (sam_id, "Success"), (sam_id, "Success")]
    assert _rows(world, sam, "SELECT UserId, Status FROM LoginHistory ORDER BY LoginTime") == own
    # Naming another user's rows, counting, grouping and semi-joins all see only Sam's rows.
    assert _rows(world, sam, f"SELECT Id FROM LoginHistory WHERE UserId = '{kim_id}' "
                             f"OR UserId = '{admin_id}'") == []
    assert query(world, sam, "SELECT COUNT() FROM LoginHistory").json()["totalSize"] == 3
    assert _rows(world, sam, "SELECT UserId, COUNT(Id) FROM LoginHistory GROUP BY UserId") == [
        (sam_id, 3)]
    assert _rows(world, sam, "SELECT Id FROM User WHERE Id IN (SELECT UserId FROM "
                             "LoginHistory)") == [(sam_id,)]


def test_retrieving_another_users_login_history_row_is_not_found(world: World) -> None:
    admin_id, sam_id, _ = _users_with_logins(world)
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    # user id -> the id of their latest row
    ids_of = dict(_rows(world, admin, "SELECT UserId, Id FROM LoginHistory ORDER BY LoginTime"))
    sam = token_for(world, "sam@acme.test", "Pass-1234TOKEN")
    url = "/services/data/v59.0/sobjects/LoginHistory/{}"
    auth = {"Authorization": f"Bearer {sam}"}
    own = world.client.get(url.format(ids_of[sam_id]), params={"fields": "UserId,Status"},
                           headers=auth)
    assert (own.status_code, own.json()["UserId"], own.json()["Status"]) == (
        200, sam_id, "Success")
    other = world.client.get(url.format(ids_of[admin_id]), headers=auth)
    assert (other.status_code, other.json()) == (404, [{
        "errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
    # As an admin the same row is there.
    seen = world.client.get(url.format(ids_of[admin_id]),
                            headers={"Authorization": f"Bearer {admin}"})
    assert (seen.status_code, seen.json()["UserId"]) == (200, admin_id)


def test_setup_audit_trail_is_for_administrators_only(world: World) -> None:
    world.services.directory.create_user(world.org.id, "sam@acme.test", "Sam-Pass-1234",
                                         "Standard User", security_token="SAMTOKEN")
    sam = token_for(world, "sam@acme.test", "Sam-Pass-1234SAMTOKEN")
    response = query(world, sam, "SELECT Id FROM SetupAuditTrail")
    assert (response.status_code, response.json()) == (400, [{
        "message": "\nSELECT Id FROM SetupAuditTrail\n               ^\nERROR at Row:1:Column:16\n"
                   "sObject type 'SetupAuditTrail' is not supported. If you are attempting to "
                   "use a custom object, be sure to append the '__c' after the entity name. "
                   "Please reference your WSDL or the describe call for the appropriate names.",
        "errorCode": "INVALID_TYPE"}])
    describe = world.client.get("/services/data/v59.0/sobjects/SetupAuditTrail/describe",
                                headers={"Authorization": f"Bearer {sam}"})
    assert describe.status_code == 404


def test_they_are_read_only(world: World) -> None:
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    response = world.client.post("/services/data/v59.0/sobjects/LoginHistory",
                                 json={"Status": "Success"},
                                 headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code in (400, 403)
    assert response.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
