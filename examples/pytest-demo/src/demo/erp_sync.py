"""Push accounts from an ERP export into Salesforce with simple-salesforce: update the Account
with the same AccountNumber, create the missing ones."""

from __future__ import annotations

from simple_salesforce import Salesforce


def sync_accounts(sf: Salesforce, rows: list[dict[str, str]]) -> dict[str, int]:
    numbers = ", ".join(f"'{row['number']}'" for row in rows)
    existing = {r["AccountNumber"]: r["Id"] for r in sf.query_all(
        f"SELECT Id, AccountNumber FROM Account WHERE AccountNumber IN ({numbers})")["records"]}
    counts = {"created": 0, "updated": 0}
    for row in rows:
        values = {"Name": row["name"], "Industry": row["industry"]}
        if row["number"] in existing:
            sf.Account.update(existing[row["number"]], values)
            counts["updated"] += 1
        else:
            sf.Account.create({**values, "AccountNumber": row["number"]})
            counts["created"] += 1
    return counts
