"""simple-salesforce's data calls, unmodified, against ``serve --tls`` (clients.md §1).

The session comes from the password grant and is handed over as ``session_id`` +
``instance_url`` (mechanism D): these tests are about query paging, CRUD, upsert, describe
and limits, not login (test_simple_salesforce.py covers the logins). Each test checks what the
client returns, not only that it did not raise.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound
from tests.clients.records import create_accounts, declare, sales_fixture
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

PAGED = 2500  # two pages of the default batch size (2,000)
LOCATOR = re.compile(r"^/services/data/v59\.0/query/01g\w{15}-2000$")


@pytest.fixture(scope="module")
def sf(live_server: LiveServer) -> Iterator[Salesforce]:
    session = requests.Session()
    session.verify = str(live_server.ca)
    session.trust_env = False  # no proxies
    yield Salesforce(session_id=live_server.access_token(), instance_url=live_server.url,
                     session=session, version="59.0")
    session.close()


@pytest.fixture(scope="module")
def paged(live_server: LiveServer, sf: Salesforce) -> tuple[str, list[str]]:
    return create_accounts(live_server, sf.session_id, PAGED)


@pytest.fixture(scope="module")
def gadget(live_server: LiveServer) -> str:
    """A custom object with an external ID, declared the way the README says (the CLI on the
    server's home while it runs)."""
    declare(live_server, "Gadget__c", "Code__c:Text:length=20:external_id", "Size__c:Number")
    return "Gadget__c"


def test_query_and_query_more_page_by_locator(sf: Salesforce,
                                               paged: tuple[str, list[str]]) -> None:
    tag, names = paged
    first = sf.query(f"SELECT Id, Name FROM Account WHERE Name LIKE 'Paged {tag}%'")
    assert (first["totalSize"], first["done"], len(first["records"])) == (PAGED, False, 2000)
    assert LOCATOR.match(first["nextRecordsUrl"]), first["nextRecordsUrl"]
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (second["totalSize"], second["done"], len(second["records"])) == (PAGED, True, 500)
    assert "nextRecordsUrl" not in second
    seen = [r["Name"] for r in first["records"] + second["records"]]
    assert sorted(seen) == names and len(set(seen)) == PAGED
    # The locator alone (what jsforce and sf keep) works too.
    again = sf.query_more(first["nextRecordsUrl"].rsplit("/", 1)[1])
    assert [r["Name"] for r in again["records"]] == [r["Name"] for r in second["records"]]


def test_query_all_follows_every_page(sf: Salesforce, paged: tuple[str, list[str]]) -> None:
    tag, names = paged
    result = sf.query_all(f"SELECT Name, NumberOfEmployees FROM Account WHERE Name LIKE "
                          f"'Paged {tag}%' ORDER BY NumberOfEmployees DESC")
    assert (result["totalSize"], result["done"]) == (PAGED, True)
    assert [r["Name"] for r in result["records"]] == list(reversed(names))
    assert [r["NumberOfEmployees"] for r in result["records"][:3]] == [2499, 2498, 2497]
    assert result["records"][0]["attributes"]["type"] == "Account"


def test_account_create_get_update_delete(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Simple Co", "Industry": "Energy",
                                 "NumberOfEmployees": 42})
    assert created == {"id": created["id"], "success": True, "errors": []}
    record_id = created["id"]
    assert record_id.startswith("001") and len(record_id) == 18
    got = sf.Account.get(record_id)
    assert (got["Id"], got["Name"], got["Industry"], got["NumberOfEmployees"]) == (
        record_id, "Simple Co", "Energy", 42)
    assert got["attributes"] == {"type": "Account",
                                 "url": f"/services/data/v59.0/sobjects/Account/{record_id}"}
    assert sf.Account.update(record_id, {"Industry": "Media", "NumberOfEmployees": None}) == 204
    got = sf.Account.get(record_id)
    assert (got["Industry"], got["NumberOfEmployees"]) == ("Media", None)
    assert sf.Account.delete(record_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(record_id)
    gone = sf.query_all(f"SELECT Id, IsDeleted FROM Account WHERE Id = '{record_id}'",
                        include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in gone["records"]] == [(record_id, True)]
    assert sf.query(f"SELECT Id FROM Account WHERE Id = '{record_id}'")["totalSize"] == 0


def test_upsert_by_external_id(sf: Salesforce, gadget: str) -> None:
    gadgets = getattr(sf, gadget)
    assert gadgets.upsert("Code__c/G-1", {"Name": "Widget", "Size__c": 2}) == 201
    assert gadgets.upsert("Code__c/g-1", {"Size__c": 3}) == 200  # matched case-insensitively
    found = gadgets.get_by_custom_id("Code__c", "G-1")
    assert (found["Name"], found["Code__c"], found["Size__c"]) == ("Widget", "G-1", 3.0)
    rows = sf.query("SELECT Code__c, Size__c FROM Gadget__c WHERE Code__c = 'G-1'")["records"]
    assert [(r["Code__c"], r["Size__c"]) for r in rows] == [("G-1", 3.0)]


def test_describe(sf: Salesforce, gadget: str) -> None:
    account = sf.Account.describe()
    assert (account["name"], account["keyPrefix"], account["queryable"]) == (
        "Account", "001", True)
    fields = {f["name"]: f for f in account["fields"]}
    assert (fields["Name"]["type"], fields["Name"]["nameField"]) == ("string", True)
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    described = getattr(sf, gadget).describe()
    assert (described["name"], described["custom"]) == ("Gadget__c", True)
    code = next(f for f in described["fields"] if f["name"] == "Code__c")
    assert (code["externalId"], code["type"], code["length"]) == (True, "string", 20)
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "User", "Gadget__c"} <= names


def test_limits(sf: Salesforce) -> None:
    before = sf.limits()["DailyApiRequests"]
    after = sf.limits()["DailyApiRequests"]
    assert set(before) >= {"Max", "Remaining"} and before["Max"] > 0
    assert after["Remaining"] < before["Remaining"] <= before["Max"]  # each call is counted


def test_parent_reference_by_external_id(live_server: LiveServer, sf: Salesforce) -> None:
    declare(live_server, "Account", "Ref__c:Text:length=20:external_id")
    account = sf.Account.create({"Name": "Parent Co", "Ref__c": "SS-1"})["id"]
    contact = sf.Contact.create({"LastName": "Child", "Account": {"Ref__c": "SS-1"}})
    assert sf.Contact.get(contact["id"])["AccountId"] == account
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Contact.create({"LastName": "Orphan", "Account": {"Ref__c": "nope"}})
    assert refused.value.content == [{
        "errorCode": "INVALID_FIELD", "fields": ["AccountId"],
        "message": "Foreign key external ID: nope not found for field Ref__c in entity Account"}]


def test_an_opportunity_with_line_items(sf: Salesforce) -> None:
    book = sf.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")["records"][0]["Id"]
    made = sales_fixture(lambda sobject, body: getattr(sf, sobject).create(body)["id"],
                         book, "SS")
    for quantity in (2, 3):
        sf.OpportunityLineItem.create({"OpportunityId": made["opportunity"], "Quantity": quantity,
                                       "PricebookEntryId": made["entry"]})
    result = sf.query("SELECT Amount, (SELECT Quantity, TotalPrice, Product2.Name FROM "
                      "OpportunityLineItems ORDER BY Quantity) FROM Opportunity WHERE Id = "
                      f"'{made['opportunity']}'")
    deal = result["records"][0]
    assert deal["Amount"] == 600.0
    assert [(i["Quantity"], i["TotalPrice"], i["Product2"]["Name"])
            for i in deal["OpportunityLineItems"]["records"]] == [
        (2.0, 240.0, "Widget SS"), (3.0, 360.0, "Widget SS")]


def test_search_and_quick_search(sf: Salesforce) -> None:
    """``search`` sends the SOSL as ``/search/?q=``; ``quick_search`` wraps a term in FIND {}."""
    tag = f"Sosl{secrets.token_hex(3)}"
    created = sf.Account.create({"Name": f"{tag} Ölwerk", "BillingCity": "Zürich"})
    found = sf.search(f"FIND {{{tag.lower()}}} RETURNING Account(Id, Name, BillingCity)")
    assert found == {"searchRecords": [{
        "attributes": {"type": "Account",
                       "url": f"/services/data/v59.0/sobjects/Account/{created['id']}"},
        "Id": created["id"], "Name": f"{tag} Ölwerk", "BillingCity": "Zürich"}]}
    quick = sf.quick_search(f"{tag} AND ölwerk")
    assert [r["Id"] for r in quick["searchRecords"]] == [created["id"]]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.search("FIND {x}")
    assert caught.value.content[0]["errorCode"] == "INVALID_SEARCH"


def test_updated_and_deleted(sf: Salesforce) -> None:
    """``SFType.updated/deleted`` send ISO 8601 windows (``+`` encoded) and return the body."""
    made = sf.Account.create({"Name": "Replicated"})["id"]
    sf.Account.delete(made)
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5)
    deleted = sf.Account.deleted(start, end)
    assert made in [r["id"] for r in deleted["deletedRecords"]]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    updated = sf.Account.updated(start, end)
    assert made not in updated["ids"] and "latestDateCovered" in updated
