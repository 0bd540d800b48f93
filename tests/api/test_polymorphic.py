"""Polymorphic lookups (issue #19): Task/Event ``What`` and ``Who`` and ``Owner`` lead to the
``Name`` object, whatever the parent's type, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)


@pytest.fixture
def world(api):
    account = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    opportunity = api.post("/sobjects/Opportunity", {
        "Name": "Big Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}).json()["id"]
    lead = api.post("/sobjects/Lead", {"FirstName": "Grace", "LastName": "Hopper",
                                       "Company": "Navy"}).json()["id"]
    contact = api.post("/sobjects/Contact", {"FirstName": "Ada", "LastName": "Lovelace"}
                       ).json()["id"]
    for subject, what, who in (("on account", account, contact), ("on deal", opportunity, lead)):
        assert api.post("/sobjects/Task", {"Subject": subject, "WhatId": what,
                                           "WhoId": who}).status_code == 201
    return {"account": account, "opportunity": opportunity, "lead": lead, "contact": contact}


def name(sobject, record_id, **fields):
    return {"attributes": {"type": "Name",
                           "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"},
            **fields}


def test_what_and_who_resolve_for_every_parent_type(api, world):
    rows = api.query("SELECT Subject, What.Name, What.Type, Who.Name, Who.Type FROM Task "
                     "ORDER BY Subject").json()["records"]
    assert [{k: v for k, v in r.items() if k != "attributes"} for r in rows] == [
        {"Subject": "on account",
         "What": name("Account", world["account"], Name="Acme", Type="Account"),
         "Who": name("Contact", world["contact"], Name="Ada Lovelace",
                     Type="Contact")},
        {"Subject": "on deal",
         "What": name("Opportunity", world["opportunity"], Name="Big Deal",
                      Type="Opportunity"),
         "Who": name("Lead", world["lead"], Name="Grace Hopper", Type="Lead")}]


def test_filter_and_sort_on_the_parent_type(api, world):
    deals = api.query("SELECT Subject FROM Task WHERE What.Type = 'Opportunity'").json()
    assert [r["Subject"] for r in deals["records"]] == ["on deal"]
    by_name = api.query("SELECT Subject FROM Task WHERE What.Name LIKE 'Ac%' "
                        "ORDER BY Who.Name DESC").json()
    assert [r["Subject"] for r in by_name["records"]] == ["on account"]
    counted = api.query("SELECT What.Type, COUNT(Id) FROM Task GROUP BY What.Type "
                        "ORDER BY What.Type").json()
    assert [(r["Type"], r["expr0"]) for r in counted["records"]] == [
        ("Account", 1), ("Opportunity", 1)]


def test_owner_is_a_name_too(api, admin, world):
    row = api.query("SELECT Owner.Name, Owner.Type FROM Task LIMIT 1").json()["records"][0]
    assert row["Owner"] == name("User", admin.user_id, Name="Test User0", Type="User")



def record(sobject, record_id, **fields):
    return {"attributes": {"type": sobject,
                           "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"},
            **fields}


def test_typeof_shapes_each_parent_by_its_type(api, world):
    """Issue #14: TYPEOF ... WHEN ... THEN ... ELSE ... END on a polymorphic relationship."""
    api.post("/sobjects/Task", {"Subject": "no parent"})
    soql = ("SELECT Subject, TYPEOF What WHEN Account THEN Name, Phone WHEN Opportunity THEN "
            "Name, StageName ELSE Name END FROM Task ORDER BY Subject")
    rows = api.query(soql).json()["records"]
    assert [{k: v for k, v in r.items() if k != "attributes"} for r in rows] == [
        {"Subject": "no parent", "What": None},
        {"Subject": "on account",
         "What": record("Account", world["account"], Name="Acme", Phone=None)},
        {"Subject": "on deal",
         "What": record("Opportunity", world["opportunity"], Name="Big Deal",
                        StageName="Prospecting")}]
    # A type no WHEN names takes the ELSE fields, from the Name object.
    rows = api.query("SELECT TYPEOF Who WHEN Contact THEN FirstName ELSE Name END FROM Task "
                     "WHERE Subject = 'on deal'").json()["records"]
    assert rows[0]["Who"] == record("Lead", world["lead"], Name="Grace Hopper")
    # Without an ELSE, such a parent carries its attributes alone.
    rows = api.query("SELECT TYPEOF Who WHEN Contact THEN FirstName END FROM Task "
                     "ORDER BY Subject DESC LIMIT 2").json()["records"]
    assert [r["Who"] for r in rows] == [
        record("Lead", world["lead"]), record("Contact", world["contact"], FirstName="Ada")]


@pytest.mark.parametrize("soql, code", [
    ("SELECT TYPEOF Account WHEN Account THEN Name END FROM Contact", "MALFORMED_QUERY"),
    ("SELECT TYPEOF What WHEN Lead THEN Name END FROM Task", "INVALID_TYPE"),
    ("SELECT TYPEOF What WHEN Account THEN Nope END FROM Task", "INVALID_FIELD"),
    ("SELECT COUNT(Id), TYPEOF What WHEN Account THEN Name END FROM Task", "MALFORMED_QUERY"),
    ("SELECT TYPEOF What WHEN Account THEN Name FROM Task", "MALFORMED_QUERY"),
])
def test_typeof_errors(api, soql, code):
    response = api.query(soql)
    assert response.status_code == 400 and response.json()[0]["errorCode"] == code, \
        response.json()
