"""The security model on every call: scope, API Enabled, object permissions (each refused)."""

from __future__ import annotations

import pytest

from localforce.oauth.issuing import IssuePolicy

INSUFFICIENT = [{"message": "insufficient access rights on object id",
                 "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}]
NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
INVALID_TYPE = ("\nSELECT Id FROM Account\n               ^\nERROR at Row:1:Column:16\nsObject "
                "type 'Account' is not supported. If you are attempting to use a custom object, "
                "be sure to append the '__c' after the entity name. Please reference your WSDL "
                "or the describe call for the appropriate names.")


@pytest.fixture
def account(admin, api_as):
    return api_as(admin).post("/sobjects/Account", {"Name": "Acme"}).json()["id"]


def test_full_access_user_can_do_everything(make_user, api_as, account):
    api = api_as(make_user(grants={"Account": ["read", "create", "edit", "delete"]}))
    assert api.query("SELECT Id FROM Account").json()["totalSize"] == 1
    assert api.get(f"/sobjects/Account/{account}").status_code == 200
    assert api.post("/sobjects/Account", {"Name": "B"}).status_code == 201
    assert api.patch(f"/sobjects/Account/{account}", {"Name": "C"}).status_code == 204
    assert api.delete(f"/sobjects/Account/{account}").status_code == 204


def test_without_read_a_query_fails_with_invalid_type_never_an_empty_list(
        make_user, api_as, account):
    api = api_as(make_user(grants={"Contact": ["read"]}))
    r = api.query("SELECT Id FROM Account")
    assert (r.status_code, r.json()) == (400, [{"message": INVALID_TYPE,
                                                "errorCode": "INVALID_TYPE"}])
    assert api.get(f"/sobjects/Account/{account}").json() == NOT_FOUND
    assert api.get("/sobjects/Account/describe").status_code == 404
    assert "Account" not in {o["name"] for o in api.get("/sobjects").json()["sobjects"]}
    # nor through a relationship or a semi-join
    assert api.query("SELECT Account.Name FROM Contact").json()[0]["errorCode"] == \
        "INVALID_FIELD"
    assert api.query("SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)"
                     ).json()[0]["errorCode"] == "INVALID_TYPE"


@pytest.mark.parametrize("missing", ["create", "edit", "delete"])
def test_each_missing_write_permission_is_refused(make_user, api_as, account, missing):
    granted = [p for p in ("read", "create", "edit", "delete") if p != missing]
    api = api_as(make_user(grants={"Account": granted}))
    attempt = {"create": lambda: api.post("/sobjects/Account", {"Name": "B"}),
               "edit": lambda: api.patch(f"/sobjects/Account/{account}", {"Name": "C"}),
               "delete": lambda: api.delete(f"/sobjects/Account/{account}")}[missing]
    r = attempt()
    assert (r.status_code, r.json()) == (403, INSUFFICIENT)
    assert api.get(f"/sobjects/Account/{account}", params={"fields": "Name"}).json()["Name"] \
        == "Acme"


def test_view_all_data_reads_but_cannot_write(make_user, api_as, account):
    api = api_as(make_user("Read Only"))
    assert api.get(f"/sobjects/Account/{account}").status_code == 200
    assert api.post("/sobjects/Account", {"Name": "B"}).json() == INSUFFICIENT


def test_directory_objects_are_read_only(admin, api_as):
    api = api_as(admin)
    assert api.query("SELECT Username FROM User").json()["totalSize"] == 1
    r = api.post("/sobjects/User", {"LastName": "X"})
    assert (r.status_code, r.json()) == (403, [{"message": "entity is read-only",
                                                "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}])


def test_token_without_api_scope_is_refused(services, org, admin, client):
    user = services.directory.store.get_user(admin.user_id)
    app = services.directory.store.find_app(org.id, "PlatformCLI")
    token = services.oauth.issuer.issue(app, user, ("id",),
                                        IssuePolicy("authorization_code")).body()["access_token"]
    r = client.get("/services/data/v59.0/query", params={"q": "SELECT Id FROM Account"},
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert "sforce-limit-info" not in r.headers


def test_no_or_forged_token_is_401(client):
    for headers in ({}, {"Authorization": "Bearer 00Dxx!forged"}):
        r = client.get("/services/data/v59.0/sobjects", headers=headers)
        assert (r.status_code, r.json()) == (401, [{"message": "Session expired or invalid",
                                                    "errorCode": "INVALID_SESSION_ID"}])


def test_records_of_another_org_are_invisible(services, admin, api_as, account):
    other_org = services.directory.create_org("Other")
    user, _ = services.directory.create_user(other_org.id, "boss@other.test", "Passw0rd-long!",
                                             "System Administrator", last_name="Boss")
    token = services.oauth.issuer.issue_session(user).access_token
    api = api_as(admin)
    api.headers = {"Authorization": f"Bearer {token}"}
    assert api.query("SELECT Id FROM Account").json()["totalSize"] == 0
    assert api.get(f"/sobjects/Account/{account}").status_code == 404
    assert api.patch(f"/sobjects/Account/{account}", {"Name": "x"}).status_code == 404


def test_query_locator_of_another_user_is_refused(make_user, admin, api_as):
    api = api_as(admin)
    for n in range(3):
        api.post("/sobjects/Account", {"Name": f"A{n}"})
    page = api.get("/query", params={"q": "SELECT Id FROM Account"},
                   headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert page["done"] is True  # 3 rows fit; build a locator with more rows below
    services_api = api_as(make_user(grants={"Account": ["read"]}))
    r = services_api.get("/query/01g5g0000000001AAA-2000")
    assert (r.status_code, r.json()) == (400, [{"message": "invalid query locator",
                                                "errorCode": "INVALID_QUERY_LOCATOR"}])


def test_user_without_api_enabled_is_refused(services, org, make_user, api_as, account):
    from localforce.domain import ids
    from localforce.domain.models import ObjectPermissions, Profile

    services.directory.store.save_profile(Profile(
        ids.new_id("00e"), org.id, "No API", api_enabled=False,
        objects=ObjectPermissions({"Account": frozenset({"read"})})))
    api = api_as(make_user("No API"))
    disabled = [{"message": "The REST API is not enabled for this Organization.",
                 "errorCode": "API_DISABLED_FOR_ORG"}]
    for response in (api.query("SELECT Id FROM Account"), api.get(f"/sobjects/Account/{account}"),
                     api.get("/sobjects")):
        assert (response.status_code, response.json()) == (403, disabled)
