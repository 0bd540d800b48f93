"""Lockout: after ``lockout_attempts`` failures (default 10) the user is locked for
``lockout_minutes`` (default 15) in every flow that takes a password, and a locked user gets
exactly the response of a wrong password (anchors.md §3 #35, salesforce-wire.md §7.2)."""

from __future__ import annotations

from typing import Any

from tests.conftest import FixedClock
from tests.policies.conftest import AUTH_FAILURE, PASSWORD, SECURITY_TOKEN, World, password_form

SOAP = ('<?xml version="1.0" encoding="utf-8"?><env:Envelope '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:n1="urn:partner.soap.sforce.com"><env:Body><n1:login>'
        '<n1:username>admin@acme.test</n1:username><n1:password>{}</n1:password>'
        '</n1:login></env:Body></env:Envelope>')


def grant(world: World, password: str) -> Any:
    return world.token(**password_form(password=password))


def soap(world: World, password: str) -> Any:
    return world.client.post("/services/Soap/u/59.0", content=SOAP.format(password),
                             headers={"Content-Type": "text/xml", "SOAPAction": "login"})


def statuses(world: World) -> list[object]:
    return [row["status"] for row in world.history()]


def test_the_eleventh_attempt_and_the_right_password_get_the_bad_password_answer(
        world: World) -> None:
    bad = [grant(world, "wrong-password") for _ in range(10)]
    assert {(r.status_code, r.text) for r in bad} == {(400, '{"error":"invalid_grant",'
                                                       '"error_description":'
                                                       '"authentication failure"}')}
    eleventh = grant(world, "wrong-password")
    right = grant(world, PASSWORD + SECURITY_TOKEN)
    for response in (eleventh, right):
        assert (response.status_code, response.json()) == (400, AUTH_FAILURE)
        assert response.headers == bad[0].headers
    assert statuses(world) == ["Invalid Password"] * 10 + ["Password Lockout"] * 2


def test_lockout_ends_after_the_lockout_period(world: World, clock: FixedClock) -> None:
    for _ in range(10):
        grant(world, "wrong-password")
    clock.advance(15 * 60 - 1)
    assert grant(world, PASSWORD + SECURITY_TOKEN).status_code == 400
    clock.advance(1)
    assert grant(world, PASSWORD + SECURITY_TOKEN).status_code == 200
    assert statuses(world)[-2:] == ["Password Lockout", "Success"]


def test_admin_unlock(world: World) -> None:
    for _ in range(10):
        grant(world, "wrong-password")
    user = world.services.directory.store.get_user(world.user.id)
    assert user is not None and user.locked_until is not None
    world.services.directory.unlock(user)
    assert grant(world, PASSWORD + SECURITY_TOKEN).status_code == 200


def test_soap_failures_count_and_locked_soap_login_looks_like_a_bad_password(
        world: World) -> None:
    bad = soap(world, "wrong-password")
    for _ in range(9):
        soap(world, "wrong-password")
    locked = soap(world, PASSWORD + SECURITY_TOKEN)
    assert (locked.status_code, locked.text) == (bad.status_code, bad.text)
    assert statuses(world) == ["Invalid Password"] * 10 + ["Password Lockout"]
    # The lock is the user's, not the flow's: the password grant is locked too.
    assert grant(world, PASSWORD + SECURITY_TOKEN).json() == AUTH_FAILURE


def test_failures_from_every_password_flow_add_up(world: World) -> None:
    for _ in range(5):
        soap(world, "wrong-password")
    for _ in range(5):
        grant(world, "wrong-password")
    assert grant(world, PASSWORD + SECURITY_TOKEN).json() == AUTH_FAILURE
    assert statuses(world)[-1] == "Password Lockout"


def test_lockout_refusals_are_counted_in_metrics(world: World) -> None:
    for _ in range(11):
        grant(world, "wrong-password")
    assert "localforce_lockout_refusals_total 1.0" in world.client.get("/metrics").text
