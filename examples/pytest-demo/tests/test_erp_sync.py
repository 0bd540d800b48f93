import pytest
from demo.erp_sync import sync_accounts
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceRefusedRequest

ROWS = [{"number": "ERP-1", "name": "Acme Corp", "industry": "Manufacturing"},
        {"number": "ERP-9", "name": "Umbrella", "industry": "Biotechnology"}]


def test_sync_updates_and_creates(localforce_org):
    sf = Salesforce(**localforce_org.simple_salesforce_kwargs())
    assert sync_accounts(sf, ROWS) == {"created": 1, "updated": 1}
    names = {r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]}
    assert names == {"Acme Corp", "Globex", "Initech", "Umbrella"}


def test_each_test_starts_from_the_seed(localforce_org):
    sf = Salesforce(**localforce_org.simple_salesforce_kwargs())
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 3


def test_sync_stops_when_the_org_is_out_of_api_calls(localforce_org):
    sf = Salesforce(**localforce_org.simple_salesforce_kwargs())
    localforce_org.faults.request_limit_exceeded()
    with pytest.raises(SalesforceRefusedRequest):
        sync_accounts(sf, ROWS)
