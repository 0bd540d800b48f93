"""Test data for the data-API client tests: many Accounts made through the collections API.

``POST /composite/sobjects`` takes 200 records a call (REST API Developer Guide, "sObject
Collections"), so a few thousand records cost a few dozen requests, not thousands.
"""

from __future__ import annotations

import secrets

from tests.clients.server import LiveServer

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
