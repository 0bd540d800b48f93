"""``localforce objects create``, the seed file's ``[[objects]]``/``[[records]]`` and
``localforce soql explain`` (the SQL and SQLite's plan: indexes for Id, Name and lookups)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from localforce.cli.main import app

SEED = """
[org]
name = "Seeded"

[[users]]
username = "admin@seeded.test"
password = "Passw0rd-long!"
profile = "System Administrator"
last_name = "Admin"

[[objects]]
name = "Thing__c"
label = "Thing"
fields = [
  { name = "Code__c", type = "Text", length = 20, external_id = true },
  { name = "Account__c", type = "Lookup", reference_to = "Account" },
  { name = "Stage__c", type = "Picklist", values = ["New", "Done"], restricted = true },
]

[[records.Account]]
Name = "Acme"
Industry = "Energy"

[[records.Thing__c]]
Name = "First thing"
Code__c = "T-1"
Stage__c = "New"
"""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOCALFORCE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LOCALFORCE_SECRET_KEY", raising=False)
    monkeypatch.delenv("LOCALFORCE_DATABASE_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.fixture
def seeded(run, tmp_path: Path):  # type: ignore[no-untyped-def]
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED)
    first = run("seed", str(seed), "--json")
    assert first.exit_code == 0, first.output
    assert "object Thing__c" in first.output and "Account Acme" in first.output
    again = run("seed", str(seed), "--json")
    assert again.exit_code == 0 and '"created": []' in again.output  # idempotent
    return run


def test_seed_declares_objects_and_loads_records(seeded) -> None:  # type: ignore[no-untyped-def]
    listed = seeded("objects", "list", "--json")
    assert '"name": "Thing__c"' in listed.output and '"keyPrefix": "a01"' in listed.output


def test_objects_create_adds_fields(seeded) -> None:  # type: ignore[no-untyped-def]
    result = seeded("objects", "create", "Account", "--field", "Region__c:Picklist:values=EU;US",
                    "--json")
    assert result.exit_code == 0, result.output
    assert '"fields": "Region__c"' in result.output
    bad = seeded("objects", "create", "Thing", "--field", "X__c")
    assert bad.exit_code != 0 and "__c" in bad.output


@pytest.mark.parametrize(("soql", "index"), [
    ("SELECT Id FROM Account WHERE Id = '001000000000001AAA'", "sqlite_autoindex_sobject_account"),
    ("SELECT Id FROM Account WHERE Name = 'Acme'", "ix_sobject_account_name"),
    ("SELECT Id FROM Contact WHERE AccountId = '001000000000001AAA'",
     "ix_sobject_contact_accountid"),
    ("SELECT Id FROM Thing__c WHERE Account__c = '001000000000001AAA'",
     "ix_sobject_thing__c_account__c"),
    ("SELECT Id FROM Thing__c WHERE Code__c = 'T-1'", "ix_sobject_thing__c_code__c"),
])
def test_explain_prints_sql_and_uses_an_index(seeded, soql: str, index: str) -> None:  # type: ignore[no-untyped-def]
    result = seeded("soql", "explain", soql)
    assert result.exit_code == 0, result.output
    sql, _, plan = result.output.partition("\n\n")
    assert sql.startswith("SELECT") and "org_id" in sql
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan


def test_explain_reports_soql_errors(seeded) -> None:  # type: ignore[no-untyped-def]
    result = seeded("soql", "explain", "SELECT Nope FROM Account")
    assert result.exit_code == 1 and "INVALID_FIELD" in result.output
