"""Compound address fields (issue #19): built from their parts by retrieve, SOQL and
FIELDS(STANDARD), on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

BILLING = {"city": "Paris", "country": "France", "geocodeAccuracy": None, "latitude": 48.85,
           "longitude": 2.35, "postalCode": "75001", "state": None, "street": "1 Rue"}


def test_an_address_is_built_from_its_parts(api):
    rid = api.post("/sobjects/Account", {
        "Name": "Acme", "BillingStreet": "1 Rue", "BillingCity": "Paris",
        "BillingPostalCode": "75001", "BillingCountry": "France", "BillingLatitude": 48.85,
        "BillingLongitude": 2.35}).json()["id"]

    got = api.get(f"/sobjects/Account/{rid}").json()
    assert (got["BillingAddress"], got["ShippingAddress"]) == (BILLING, None)
    assert list(got["BillingAddress"]) == sorted(BILLING)  # the wire's key order
    assert api.get(f"/sobjects/Account/{rid}?fields=BillingAddress").json()[
        "BillingAddress"] == BILLING
    row = api.query("SELECT Name, BillingAddress, BillingCity FROM Account").json()["records"][0]
    assert (row["BillingAddress"], row["BillingCity"]) == (BILLING, "Paris")
    assert list(row["BillingAddress"]) == sorted(BILLING)
    standard = api.query("SELECT FIELDS(STANDARD) FROM Account").json()["records"][0]
    assert (standard["BillingAddress"], standard["ShippingAddress"]) == (BILLING, None)


def test_contact_mailing_and_lead_address_through_a_parent(api):
    account = api.post("/sobjects/Account", {"Name": "Acme", "BillingCity": "Lyon"}).json()["id"]
    api.post("/sobjects/Contact", {"LastName": "Ada", "MailingCity": "London",
                                   "AccountId": account})
    api.post("/sobjects/Lead", {"LastName": "Hopper", "Company": "Navy", "State": "VA"})

    contact = api.query("SELECT MailingAddress, Account.BillingAddress FROM Contact").json()[
        "records"][0]
    assert contact["MailingAddress"]["city"] == "London"
    assert contact["Account"]["BillingAddress"]["city"] == "Lyon"
    lead = api.query("SELECT Address FROM Lead").json()["records"][0]
    assert lead["Address"] == {"city": None, "country": None, "geocodeAccuracy": None,
                               "latitude": None, "longitude": None, "postalCode": None,
                               "state": "VA", "street": None}
