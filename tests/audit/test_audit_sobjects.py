"""LoginHistory and SetupAuditTrail through the REST API: queryable, read-only, and only for
users with Manage Users or View All Data."""

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


def test_users_without_the_permission_cannot_read_them(world: World) -> None:
    world.services.directory.create_user(world.org.id, "sam@acme.test", "Sam-Pass-1234",
                                         "Standard User", security_token="SAMTOKEN")
    sam = token_for(world, "sam@acme.test", "Sam-Pass-1234SAMTOKEN")
    for soql in ("SELECT Id, Status FROM LoginHistory", "SELECT Id FROM SetupAuditTrail"):
        response = query(world, sam, soql)
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "INVALID_TYPE"


def test_they_are_read_only(world: World) -> None:
    admin = token_for(world, "admin@acme.test", PASSWORD + SECURITY_TOKEN)
    response = world.client.post("/services/data/v59.0/sobjects/LoginHistory",
                                 json={"Status": "Success"},
                                 headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code in (400, 403)
    assert response.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
