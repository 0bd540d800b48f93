"""The bench's store floor (bench/floor_app.py ``store``) answers what localforce answers.

The floor is the query's SELECT from a raw callable, the figure ``make bench`` sets
localforce's ``/query`` beside; it means something only if it reads the same rows in the same
order and answers the same document. Here both answer ``SELECT Id,Name FROM Account LIMIT 5``
for an org with more Accounts than that, one of them deleted, on each database.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path

import pytest
from tests.conftest import make_settings

from localforce.bootstrap import build

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_store_floor_answers_the_query_localforce_answers(
        home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    services = build(make_settings(home, database_url))
    try:
        org = services.directory.create_org("Floor")
        user, _ = services.directory.create_user(org.id, "admin@floor.test", "Passw0rd-long!",
                                                 "System Administrator", last_name="Admin")
        principal = services.oauth.sessions.resolve(
            services.oauth.issuer.issue_session(user).access_token)
        ids = [services.data.records.create(principal, "Account", {"Name": f"Floor {i}"}).id
               for i in range(8)]
        services.data.records.delete(principal, "Account", sorted(ids)[1])
        expected = services.data.queries.query(principal, "SELECT Id,Name FROM Account LIMIT 5",
                                               "62.0")
    finally:
        services.close()

    monkeypatch.setenv("FLOOR_DATABASE_URL", database_url)
    monkeypatch.setenv("FLOOR_ORG_ID", org.id)
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.syspath_prepend(str(BENCH / "micro"))
    floor_app = importlib.import_module("floor_app")
    asgi = importlib.import_module("asgi")
    try:
        status, body = asyncio.run(asgi.call(floor_app.store(), "GET", "/query"))
    finally:
        for name in ("floor_app", "asgi"):
            sys.modules.pop(name, None)

    assert status == 200
    answer = json.loads(body)
    assert answer == expected
    assert [r["Id"] for r in answer["records"]] == [i for i in sorted(ids) if i != sorted(ids)[1]
                                                    ][:5]
