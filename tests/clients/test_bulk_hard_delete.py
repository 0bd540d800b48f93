"""Bulk API 1.0 ``hardDelete`` from the real clients, unmodified, against ``serve --tls``:
simple-salesforce's ``sf.bulk.Account.hard_delete`` (a JSON job) and jsforce's
``conn.bulk.load('Account', 'hardDelete', …)`` (an XML job, a CSV batch). The seed's admin
holds "Bulk API Hard Delete" through a permission set (no profile has it by default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from simple_salesforce import Salesforce
from tests.clients.node import run_js
from tests.clients.server import (
    SEED,
    USERNAME,
    LiveServer,
    start_server,
    stop_server,
    write_jwt_certificate,
)

pytestmark = pytest.mark.clients

PURGERS = """
[[permission_sets]]
name = "CompatPurgers"
bulk_api_hard_delete = true
objects = { Account = ["read", "edit", "delete"] }
"""


@pytest.fixture(scope="module")
def purging_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("purge") / "tls"
    folder.mkdir(parents=True)
    marker = f'username = "{USERNAME}"\n'
    assert marker in SEED
    seed = (SEED.replace("[[users]]", PURGERS.strip() + "\n\n[[users]]", 1)
            .replace(marker, marker + 'permission_sets = ["CompatPurgers"]\n', 1))
    write_jwt_certificate(folder)
    (folder / "seed.toml").write_text(seed)
    server = start_server(folder, tls=True)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def sf(purging_server: LiveServer) -> Iterator[Salesforce]:
    session = requests.Session()
    session.verify = str(purging_server.ca)
    session.trust_env = False
    sf = Salesforce(session_id=purging_server.access_token(),
                    instance_url=purging_server.url, session=session, version="59.0")
    yield sf
    sf.session.close()


def everything(sf: Salesforce, site: str) -> list[str]:
    """Ids of the site's records, the recycle bin's included."""
    result = sf.query_all(f"SELECT Id FROM Account WHERE Site = '{site}'", include_deleted=True)
    return sorted(r["Id"] for r in result["records"])


def test_simple_salesforce_bulk_hard_delete(sf: Salesforce) -> None:
    made = [sf.Account.create({"Name": f"Purge {n}", "Site": "ss-purge"})["id"]
            for n in range(3)]
    results = sf.bulk.Account.hard_delete([{"Id": made[0]}, {"Id": made[1]},
                                           {"Id": "001000000000000AAA"}])
    assert [(r["id"], r["success"]) for r in results] == [
        (made[0], True), (made[1], True), (None, False)]
    assert results[2]["errors"][0]["statusCode"] == "NOT_FOUND"
    assert everything(sf, "ss-purge") == [made[2]]  # gone for good: not in the recycle bin


def test_jsforce_bulk_load_hard_delete(purging_server: LiveServer, sf: Salesforce) -> None:
    made = [sf.Account.create({"Name": f"Purge {n}", "Site": "js-purge"})["id"]
            for n in range(2)]
    sf.Account.delete(made[1])  # in the recycle bin: a hard delete refuses it as a delete does
    out = run_js(purging_server, "jsforce_bulk.js", scenario="bulkHardDelete",
                 accessToken=purging_server.access_token(), instanceUrl=purging_server.url,
                 ids=made)  # type: ignore[arg-type]
    assert out["results"] == [
        [made[0], True, []],
        [None, False, ["ENTITY_IS_DELETED:entity is deleted: --"]]]
    assert everything(sf, "js-purge") == [made[1]]
