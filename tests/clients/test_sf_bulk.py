"""``sf data upsert bulk`` and ``sf data export bulk`` (Bulk API 2.0; this sf has no
``data query --bulk`` any more, its bulk query is ``export bulk``) against ``serve --tls``
(issue #14): the CLI's jobs run on the server's runner; what it reports and writes is checked."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path

import pytest
from tests.clients.node import run_sf
from tests.clients.server import LiveServer

pytestmark = pytest.mark.clients

ALIAS = "lf"


@pytest.fixture(scope="module")
def home(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sf-bulk")
    run_sf(live_server, home, "org", "login", "access-token", "--instance-url", live_server.url,
           "--no-prompt", "--alias", ALIAS, env={"SF_ACCESS_TOKEN": live_server.access_token()})
    return home


def test_upsert_bulk_then_export_bulk(live_server: LiveServer, home: Path,
                                     tmp_path: Path) -> None:
    tag = f"SfBulk{secrets.token_hex(3)}"
    data = tmp_path / "accounts.csv"
    data.write_text("Id,Name,NumberOfEmployees\n" + "".join(
        f",{tag} {n:03d},{n}\n" for n in range(250)))
    upserted = run_sf(live_server, home, "data", "upsert", "bulk", "--sobject", "Account",
                      "--file", str(data), "--external-id", "Id", "--wait", "10",
                      "-o", ALIAS)["result"]
    assert (upserted["jobInfo"]["state"], upserted["jobInfo"]["numberRecordsProcessed"],
            upserted["jobInfo"]["numberRecordsFailed"]) == ("JobComplete", 250, 0), upserted
    out = tmp_path / "export.csv"
    exported = run_sf(live_server, home, "data", "export", "bulk", "--wait", "10", "--query",
                      f"SELECT Name, NumberOfEmployees FROM Account WHERE Name LIKE '{tag}%' "
                      "ORDER BY Name", "--output-file", str(out), "--result-format", "csv",
                      "-o", ALIAS)["result"]
    assert exported["totalSize"] == 250, exported
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["Name"], r["NumberOfEmployees"]) for r in rows] == [
        (f"{tag} {n:03d}", str(n)) for n in range(250)]
