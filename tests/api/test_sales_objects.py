"""Products, price books, line items, campaign members, notes and attachments (issue #19),
on SQLite and PostgreSQL."""

from __future__ import annotations

import base64

from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

from localforce.data.sales import standard_price_book_id


def records(api, soql):
    response = api.query(soql)
    assert response.status_code == 200, response.text
    return [{k: v for k, v in r.items() if k != "attributes"}
            for r in response.json()["records"]]


def test_every_org_has_one_standard_price_book(api, org):
    assert records(api, "SELECT Id, Name, IsStandard, IsActive FROM Pricebook2") == [{
        "Id": standard_price_book_id(org.id), "Name": "Standard Price Book",
        "IsStandard": True, "IsActive": True}]


def test_an_opportunity_with_line_items(api, org):
    standard = standard_price_book_id(org.id)
    product = api.post("/sobjects/Product2", {"Name": "Widget", "ProductCode": "W-1"}).json()
    entry = api.post("/sobjects/PricebookEntry", {
        "Pricebook2Id": standard, "Product2Id": product["id"], "UnitPrice": 100,
        "IsActive": True})
    assert entry.status_code == 201, entry.text
    opportunity = api.post("/sobjects/Opportunity", {
        "Name": "Big Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}).json()["id"]

    first = api.post("/sobjects/OpportunityLineItem", {
        "OpportunityId": opportunity, "PricebookEntryId": entry.json()["id"], "Quantity": 3})
    second = api.post("/sobjects/OpportunityLineItem", {
        "OpportunityId": opportunity, "PricebookEntryId": entry.json()["id"], "Quantity": 2,
        "UnitPrice": 80})
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)

    assert records(api, "SELECT Name, ProductCode, Quantity, UnitPrice, ListPrice, TotalPrice, "
                        "Product2.Name, PricebookEntry.UnitPrice FROM OpportunityLineItem "
                        "ORDER BY Quantity DESC") == [
        {"Name": "Big Deal Widget", "ProductCode": "W-1", "Quantity": 3.0, "UnitPrice": 100.0,
         "ListPrice": 100.0, "TotalPrice": 300.0,
         "Product2": {"attributes": {"type": "Product2", "url": "/services/data/v59.0/"
                                     f"sobjects/Product2/{product['id']}"}, "Name": "Widget"},
         "PricebookEntry": {"attributes": {"type": "PricebookEntry", "url": "/services/data/"
                                           f"v59.0/sobjects/PricebookEntry/"
                                           f"{entry.json()['id']}"}, "UnitPrice": 100.0}},
        {"Name": "Big Deal Widget", "ProductCode": "W-1", "Quantity": 2.0, "UnitPrice": 80.0,
         "ListPrice": 100.0, "TotalPrice": 160.0,
         "Product2": {"attributes": {"type": "Product2", "url": "/services/data/v59.0/"
                                     f"sobjects/Product2/{product['id']}"}, "Name": "Widget"},
         "PricebookEntry": {"attributes": {"type": "PricebookEntry", "url": "/services/data/"
                                           f"v59.0/sobjects/PricebookEntry/"
                                           f"{entry.json()['id']}"}, "UnitPrice": 100.0}}]
    deal = f"SELECT Amount, Pricebook2Id FROM Opportunity WHERE Id = '{opportunity}'"
    assert records(api, deal) == [{"Amount": 460.0, "Pricebook2Id": standard}]

    # A subquery from the opportunity; a change and a delete keep Amount the sum.
    nested = records(api, "SELECT Name, (SELECT Quantity FROM OpportunityLineItems ORDER BY "
                          f"Quantity) FROM Opportunity WHERE Id = '{opportunity}'")
    assert [r["Quantity"] for r in nested[0]["OpportunityLineItems"]["records"]] == [2.0, 3.0]
    api.patch(f"/sobjects/OpportunityLineItem/{first.json()['id']}", {"Quantity": 1})
    assert records(api, deal)[0]["Amount"] == 260.0
    api.delete(f"/sobjects/OpportunityLineItem/{second.json()['id']}")
    assert records(api, deal)[0]["Amount"] == 100.0


def test_price_book_and_line_item_rules(api, org):
    standard = standard_price_book_id(org.id)
    product = api.post("/sobjects/Product2", {"Name": "Widget"}).json()["id"]
    custom = api.post("/sobjects/Pricebook2", {"Name": "Partners", "IsActive": True}).json()["id"]

    no_standard = api.post("/sobjects/PricebookEntry", {
        "Pricebook2Id": custom, "Product2Id": product, "UnitPrice": 90})
    assert (no_standard.status_code, no_standard.json()) == (400, [{
        "errorCode": "STANDARD_PRICE_NOT_DEFINED",
        "message": "No standard price defined for this product", "fields": []}])

    standard_entry = api.post("/sobjects/PricebookEntry", {
        "Pricebook2Id": standard, "Product2Id": product, "UnitPrice": 100}).json()["id"]
    duplicate = api.post("/sobjects/PricebookEntry", {
        "Pricebook2Id": standard, "Product2Id": product, "UnitPrice": 100})
    assert (duplicate.status_code, duplicate.json()[0]["errorCode"]) == (400, "DUPLICATE_VALUE")
    partner_entry = api.post("/sobjects/PricebookEntry", {
        "Pricebook2Id": custom, "Product2Id": product, "UnitPrice": 90}).json()["id"]

    opportunity = api.post("/sobjects/Opportunity", {
        "Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}).json()["id"]
    both = api.post("/sobjects/OpportunityLineItem", {
        "OpportunityId": opportunity, "PricebookEntryId": standard_entry, "Quantity": 1,
        "UnitPrice": 10, "TotalPrice": 10})
    assert (both.status_code, both.json()) == (400, [{
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
        "message": "field integrity exception: TotalPrice (cannot specify both unit price and "
                   "total price)", "fields": ["TotalPrice"]}])
    by_total = api.post("/sobjects/OpportunityLineItem", {
        "OpportunityId": opportunity, "PricebookEntryId": standard_entry, "Quantity": 4,
        "TotalPrice": 200}).json()["id"]
    assert records(api, "SELECT UnitPrice FROM OpportunityLineItem WHERE Id = "
                        f"'{by_total}'") == [{"UnitPrice": 50.0}]
    other_book = api.post("/sobjects/OpportunityLineItem", {
        "OpportunityId": opportunity, "PricebookEntryId": partner_entry, "Quantity": 1})
    assert (other_book.status_code, other_book.json()[0]["errorCode"]) == (
        400, "FIELD_INTEGRITY_EXCEPTION")


def test_campaign_members_and_notes(api):
    campaign = api.post("/sobjects/Campaign", {"Name": "Launch"}).json()["id"]
    contact = api.post("/sobjects/Contact", {"LastName": "Ada"}).json()["id"]
    member = api.post("/sobjects/CampaignMember", {"CampaignId": campaign, "ContactId": contact,
                                                   "Status": "Sent"})
    assert member.status_code == 201, member.text
    note = api.post("/sobjects/Note", {"ParentId": contact, "Title": "Met", "Body": "Nice"})
    assert note.status_code == 201, note.text
    assert records(api, "SELECT Contact.LastName, Campaign.Name FROM CampaignMember")[0][
        "Campaign"]["Name"] == "Launch"
    api.delete(f"/sobjects/Contact/{contact}")  # cascades to both
    assert records(api, "SELECT Id FROM CampaignMember") == []
    assert records(api, "SELECT Id FROM Note") == []


def test_an_attachment_body_is_stored_and_served_as_bytes(api):
    account = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    payload = b"%PDF-1.4 \x00\xff binary"
    created = api.post("/sobjects/Attachment", {
        "ParentId": account, "Name": "a.pdf", "ContentType": "application/pdf",
        "Body": base64.b64encode(payload).decode()})
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    url = f"/services/data/v59.0/sobjects/Attachment/{rid}"

    got = api.get(f"/sobjects/Attachment/{rid}").json()
    assert (got["Body"], got["BodyLength"]) == (f"{url}/Body", len(payload))
    assert records(api, "SELECT Body FROM Attachment") == [{"Body": f"{url}/Body"}]
    blob = api.get(f"/sobjects/Attachment/{rid}/Body")
    assert (blob.status_code, blob.content) == (200, payload)
    assert blob.headers["content-type"] == "application/pdf"

    bad = api.post("/sobjects/Attachment", {"ParentId": account, "Name": "b", "Body": "!!"})
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")


def test_record_types_are_served(api):
    assert api.query("SELECT Id FROM RecordType").json()["totalSize"] == 0  # a new org's
    created = api.post("/sobjects/RecordType", {"Name": "Partner", "DeveloperName": "Partner",
                                                "SobjectType": "Account"})
    assert created.status_code == 201, created.text
    assert records(api, "SELECT DeveloperName, SobjectType, IsActive FROM RecordType WHERE "
                        "SobjectType = 'Account'") == [
        {"DeveloperName": "Partner", "SobjectType": "Account", "IsActive": False}]
    described = api.get("/sobjects/RecordType/describe").json()
    assert "IsDeleted" not in {f["name"] for f in described["fields"]}
    assert "IsDeleted" not in api.get(f"/sobjects/RecordType/{created.json()['id']}").json()
    missing = api.post("/sobjects/RecordType", {"Name": "No type"})
    assert (missing.status_code, missing.json()[0]["errorCode"]) == (
        400, "REQUIRED_FIELD_MISSING")
