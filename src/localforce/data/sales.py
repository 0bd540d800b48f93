"""Products, price books and opportunity line items: the rules Salesforce applies on write.

- Every org has one standard price book (``IsStandard = true``, "Standard Price Book"); a
  product needs an entry there before it can have one in a custom book
  (``STANDARD_PRICE_NOT_DEFINED``), and one product has at most one entry per book
  (``DUPLICATE_VALUE``). An entry's ``Name`` and ``ProductCode`` are its product's.
- A line item comes from a price book entry: ``Product2Id``, ``ProductCode``, ``ListPrice`` and
  ``Name`` ("<opportunity> <product>") are copied; ``UnitPrice`` defaults to the list price;
  ``TotalPrice = Quantity * UnitPrice`` (or ``UnitPrice = TotalPrice / Quantity`` when only the
  total is given; giving both is refused). The opportunity takes the entry's price book, and an
  entry from another book is refused.
- An opportunity with line items has ``Amount`` = the sum of their ``TotalPrice``.

Texts are Salesforce's where recorded (REST/SOAP API error references); the rest are ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from localforce.data.errors import BadRequest
from localforce.domain import ids

STANDARD_PRICE_BOOK = "Standard Price Book"
#: Objects whose writes change another record (an opportunity's Amount).
ROLLED_UP = frozenset({"OpportunityLineItem"})


def standard_price_book_id(org_id: str) -> str:
    """The org's standard price book: one fixed Id per org, so it exists at most once."""
    return ids.derived_id("01s", f"standard-price-book:{org_id}")


#: ``fetch(sobject, id)``: the live record's stored values, or None.
Fetch = Callable[[str, str], Mapping[str, Any] | None]
#: ``find(sobject, field, value)``: the ids of live records whose field equals value.
Find = Callable[[str, str, Any], list[str]]


def pricebook_entry(merged: Mapping[str, Any], creating: bool, fetch: Fetch,
                    find: Find, standard_book: str) -> dict[str, Any]:
    product = fetch("Product2", str(merged.get("Product2Id") or ""))
    book = fetch("Pricebook2", str(merged.get("Pricebook2Id") or ""))
    if product is None or book is None:
        missing = "Product2Id" if product is None else "Pricebook2Id"
        raise BadRequest("INVALID_CROSS_REFERENCE_KEY",
                         "invalid cross reference id", [missing])
    if creating:
        same_product = set(find("PricebookEntry", "Product2Id", merged["Product2Id"]))
        if same_product & set(find("PricebookEntry", "Pricebook2Id", merged["Pricebook2Id"])):
            raise BadRequest("DUPLICATE_VALUE", "This price definition already exists in this "
                             "price book", [])
        if merged["Pricebook2Id"] != standard_book and not (
                same_product & set(find("PricebookEntry", "Pricebook2Id", standard_book))):
            raise BadRequest("STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this "
                             "product", [])
    return {"Name": product.get("Name"), "ProductCode": product.get("ProductCode")}


def line_item(merged: Mapping[str, Any], given: Mapping[str, Any], creating: bool,
              fetch: Fetch) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The line item's derived values, and the update its opportunity needs (or None)."""
    entry = fetch("PricebookEntry", str(merged.get("PricebookEntryId") or ""))
    opportunity = fetch("Opportunity", str(merged.get("OpportunityId") or ""))
    if entry is None or opportunity is None:
        missing = "PricebookEntryId" if entry is None else "OpportunityId"
        raise BadRequest("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                         [missing])
    out: dict[str, Any] = {}
    opportunity_update = None
    if creating:
        book = opportunity.get("Pricebook2Id")
        if book is None:
            opportunity_update = {"Pricebook2Id": entry["Pricebook2Id"]}
        elif book != entry["Pricebook2Id"]:
            raise BadRequest("FIELD_INTEGRITY_EXCEPTION", "field integrity exception: "
                             "PricebookEntryId (pricebook entry is in a different pricebook "
                             "than the one assigned to the opportunity)", ["PricebookEntryId"])
        product = fetch("Product2", str(entry.get("Product2Id") or "")) or {}
        out.update(Product2Id=entry.get("Product2Id"), ProductCode=entry.get("ProductCode"),
                   ListPrice=entry.get("UnitPrice"),
                   Name=f"{opportunity.get('Name')} {product.get('Name')}"[:376])
    if "UnitPrice" in given and "TotalPrice" in given and given["TotalPrice"] is not None \
            and given["UnitPrice"] is not None:
        raise BadRequest("FIELD_INTEGRITY_EXCEPTION", "field integrity exception: TotalPrice "
                         "(cannot specify both unit price and total price)", ["TotalPrice"])
    quantity = float(merged.get("Quantity") or 0)
    unit = merged.get("UnitPrice")
    if "TotalPrice" in given and given["TotalPrice"] is not None:
        unit = float(given["TotalPrice"]) / quantity if quantity else 0.0
    elif unit is None:
        unit = entry.get("UnitPrice")
    out["UnitPrice"] = unit
    out["TotalPrice"] = round(quantity * float(unit or 0), 2)
    return out, opportunity_update
