"""``sf data export tree`` and ``sf data import tree`` (composite/tree) against ``serve --tls``,
with and without a plan: what was exported comes back as new records, children under their
new parents (issue #14)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from tests.clients.node import run_sf
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

ALIAS = "lf"


@pytest.fixture(scope="module")
def home(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sf-tree")
    run_sf(live_server, home, "org", "login", "access-token", "--instance-url", live_server.url,
           "--no-prompt", "--alias", ALIAS, env={"SF_ACCESS_TOKEN": live_server.access_token()})
    return home


def families(server: LiveServer, home: Path, tag: str) -> list[tuple[str, list[str]]]:
    soql = (f"SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account "
            f"WHERE Name LIKE '{tag}%' ORDER BY Name")
    rows = run_sf(server, home, "data", "query", "-q", soql, "-o", ALIAS)["result"]["records"]
    return [(r["Name"], [c["LastName"] for c in (r["Contacts"] or {"records": []})["records"]])
            for r in rows]


@pytest.mark.parametrize("plan", [False, True], ids=["files", "plan"])
def test_export_then_import_tree(live_server: LiveServer, home: Path, tmp_path: Path,
                                 plan: bool) -> None:
    tag = f"Tree{secrets.token_hex(3)}"
    token = live_server.access_token()
    with live_server.http() as client:
        headers = {"Authorization": f"Bearer {token}"}
        made = client.post("/services/data/v59.0/composite/tree/Account", headers=headers, json={
            "records": [{"attributes": {"type": "Account", "referenceId": "a"},
                         "Name": f"{tag} Parent", "Contacts": {"records": [
                             {"attributes": {"type": "Contact", "referenceId": f"c{n}"},
                              "LastName": f"Kid{n}"} for n in (1, 2)]}}]})
        assert made.status_code == 201, made.text
    soql = (f"SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account "
            f"WHERE Name LIKE '{tag}%'")
    args = ["--plan"] if plan else []
    exported = run_sf(live_server, home, "data", "export", "tree", "--query", soql,
                      "--output-dir", str(tmp_path), "-o", ALIAS, *args)["result"]
    if plan:  # the plan entries, one per object, each naming its file
        assert [e["sobject"] for e in exported] == ["Account", "Contact"], exported
        [plan_file] = tmp_path.glob("*plan.json")
        source = ["--plan", str(plan_file)]
    else:
        [data_file] = tmp_path.glob("*.json")
        assert json.loads(data_file.read_text())["records"][0]["Contacts"]["records"]
        source = ["--files", str(data_file)]
        assert exported["records"][0]["Name"] == f"{tag} Parent"
    imported = run_sf(live_server, home, "data", "import", "tree", *source, "-o", ALIAS)
    refs = sorted((r["type"], r["id"][:3]) for r in imported["result"])
    assert refs == [("Account", "001"), ("Contact", "003"), ("Contact", "003")]
    assert families(live_server, home, tag) == [(f"{tag} Parent", ["Kid1", "Kid2"])] * 2
