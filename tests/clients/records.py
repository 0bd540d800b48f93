"""Test data for the data-API client tests: many Accounts made through the collections API.

``POST /composite/sobjects`` takes 200 records a call (REST API Developer Guide, "sObject
Collections"), so a few thousand records cost a few dozen requests, not thousands.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.clients.server import PROXY_VARS, LiveServer

COLLECTION_SIZE = 200


def create_accounts(server: LiveServer, token: str, count: int) -> tuple[str, list[str]]:
    """``count`` Accounts named ``Paged {tag} {n:05d}``; the tag and the names, in order."""
    tag = secrets.token_hex(4)
    names = [f"Paged {tag} {n:05d}" for n in range(count)]
    headers = {"Authorization": f"Bearer {token}"}
    with server.http() as client:
        for start in range(0, count, COLLECTION_SIZE):
            records = [{"attributes": {"type": "Account"}, "Name": name,
                        "NumberOfEmployees": start + i}
                       for i, name in enumerate(names[start:start + COLLECTION_SIZE])]
            response = client.post("/services/data/v59.0/composite/sobjects", headers=headers,
                                   json={"allOrNone": True, "records": records})
            assert response.status_code == 200, response.text
            assert all(r["success"] for r in response.json()), response.text
    return tag, names


def declare(server: LiveServer, sobject: str, *fields: str) -> None:
    """``localforce objects create <sobject> --field …`` on the running server's home, the
    way the README declares custom objects and fields."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LOCALFORCE_") and k.lower() not in PROXY_VARS}
    env["LOCALFORCE_HOME"] = str(server.home)
    args = [a for f in fields for a in ("--field", f)]
    result = subprocess.run(
        [sys.executable, "-m", "localforce.cli.main", "objects", "create", sobject, *args],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def sales_fixture(sf_create, standard_book: str, tag: str) -> dict[str, str]:
    """A product priced in the standard book and an open opportunity, through a client's
    create call (``sf_create(sobject, body) -> id``)."""
    product = sf_create("Product2", {"Name": f"Widget {tag}", "ProductCode": tag})
    entry = sf_create("PricebookEntry", {"Pricebook2Id": standard_book, "Product2Id": product,
                                         "UnitPrice": 120, "IsActive": True})
    opportunity = sf_create("Opportunity", {"Name": f"Deal {tag}", "StageName": "Prospecting",
                                            "CloseDate": "2026-12-31"})
    return {"product": product, "entry": entry, "opportunity": opportunity}
