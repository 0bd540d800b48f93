"""Record CRUD, upsert and describe through the ASGI app (REST API Developer Guide; wire
shapes in salesforce-wire.md §6.4-6.7)."""

from __future__ import annotations

from localforce.domain import ids

JSON = "application/json;charset=UTF-8"


def test_create_returns_201_with_id_success_errors_and_location(admin, api_as):
    api = api_as(admin)
    r = api.post("/sobjects/Account/", {"Name": "Acme", "Industry": "Energy"})
    assert r.status_code == 201
    assert r.headers["content-type"] == JSON
    body = r.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert body["id"].startswith("001") and ids.is_valid(body["id"]) and len(body["id"]) == 18
    assert r.headers["location"] == f"/services/data/v59.0/sobjects/Account/{body['id']}"
    assert r.headers["sforce-limit-info"].startswith("api-usage=")


def test_retrieve_update_delete_round_trip(admin, api_as):
    api = api_as(admin)
    record_id = api.post("/sobjects/account", {"Name": "Acme"}).json()["id"]
    got = api.get(f"/sobjects/Account/{record_id[:15]}", params={"fields": "name,Industry"})
    assert got.status_code == 200
    assert got.json() == {"attributes": {"type": "Account", "url":
                          f"/services/data/v59.0/sobjects/Account/{record_id}"},
                          "Name": "Acme", "Industry": None}
    patched = api.patch(f"/sobjects/Account/{record_id}", {"Industry": "Media"})
    assert patched.status_code == 204 and patched.content == b""
    assert api.get(f"/sobjects/Account/{record_id}?fields=Industry").json()["Industry"] == "Media"
    deleted = api.delete(f"/sobjects/Account/{record_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    again = api.delete(f"/sobjects/Account/{record_id}")
    assert again.status_code == 404
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED",
                             "fields": []}]
    assert api.get(f"/sobjects/Account/{record_id}").status_code == 404


def test_system_fields_are_maintained(admin, api_as, clock):
    api = api_as(admin)
    record_id = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    fields = "OwnerId,CreatedById,LastModifiedById,CreatedDate,LastModifiedDate,SystemModstamp," \
             "IsDeleted"
    before = api.get(f"/sobjects/Account/{record_id}", params={"fields": fields}).json()
    assert before["OwnerId"] == before["CreatedById"] == admin.user_id
    assert before["IsDeleted"] is False
    assert before["CreatedDate"] == "2026-09-21T14:13:20.000+0000"
    clock.advance(60)
    api.patch(f"/sobjects/Account/{record_id}", {"Name": "Acme 2"})
    after = api.get(f"/sobjects/Account/{record_id}", params={"fields": fields}).json()
    assert after["CreatedDate"] == before["CreatedDate"]
    assert after["LastModifiedDate"] == after["SystemModstamp"] == "2026-09-21T14:14:20.000+0000"


def test_dml_errors_have_salesforce_codes_and_texts(admin, api_as):
    api = api_as(admin)
    cases = [
        ({"Name": "x", "FavoritePet__c": "cat"}, [{"message": "No such column 'FavoritePet__c' "
          "on sobject of type Account", "errorCode": "INVALID_FIELD"}]),
        ({"Industry": "Energy"}, [{"message": "Required fields are missing: [Name]",
                                   "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}]),
        ({"Name": "x", "Id": "001000000000000AAA"}, [{"message": "The Id field should not be "
          "specified in the sobject data.", "errorCode": "INVALID_FIELD"}]),
        ({"Name": "x" * 256}, [{"message": f"Account Name: data value too large: {'x' * 256} "
          "(max length=255)", "errorCode": "STRING_TOO_LONG", "fields": ["Name"]}]),
        ({"Name": "x", "ParentId": "003000000000000AAA"}, [{"message": "Parent Account ID: id "
          "value of incorrect type: 003000000000000AAA", "errorCode": "MALFORMED_ID",
          "fields": ["ParentId"]}]),
        ({"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"}, [{"message": "Unable to "
          "create/update fields: CreatedDate. Please check the security settings of this field "
          "and verify that it is read/write for your profile or permission set.",
          "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": ["CreatedDate"]}]),
    ]
    for body, expected in cases:
        r = api.post("/sobjects/Account", body)
        assert (r.status_code, r.json()) == (400, expected), body
    bad_json = api.client.post(api.url("/sobjects/Account"), content=b"{nope",
                               headers={**api.headers, "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_unknown_object_and_version_are_not_found(admin, api_as):
    api = api_as(admin)
    missing = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert api.get("/sobjects/Bogus__c/describe").json() == missing
    r = api.client.get("/services/data/v12.0/sobjects", headers=api.headers)
    assert (r.status_code, r.json()) == (404, missing)


def test_contact_name_is_compound_and_lookup_resolves(admin, api_as):
    api = api_as(admin)
    account = api.post("/sobjects/Account", {"Name": "Acme"}).json()["id"]
    contact = api.post("/sobjects/Contact", {"FirstName": "Ada", "LastName": "Lovelace",
                                             "AccountId": account}).json()["id"]
    r = api.query(f"SELECT Name, Account.Name FROM Contact WHERE Id = '{contact}'")
    assert r.json()["records"][0]["Name"] == "Ada Lovelace"
    assert r.json()["records"][0]["Account"]["Name"] == "Acme"


def test_upsert_by_external_id_inserts_201_updates_200_and_300_on_ambiguity(
        services, org, admin, api_as):
    services.data.declare(org.id, {"name": "Account", "fields": [
        {"name": "Ext__c", "type": "Text", "length": 20, "external_id": True}]})
    api = api_as(admin)
    created = api.patch("/sobjects/Account/Ext__c/A-1", {"Name": "Acme"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    updated = api.patch("/sobjects/Account/ext__c/a-1", {"Name": "Acme 2"})
    assert (updated.status_code, updated.json()) == (200, {"id": body["id"], "success": True,
                                                          "errors": [], "created": False})
    assert api.get("/sobjects/Account/Ext__c/A-1").json()["Name"] == "Acme 2"
    second = api.post("/sobjects/Account", {"Name": "Dup", "Ext__c": "A-1"}).json()["id"]
    ambiguous = api.patch("/sobjects/Account/Ext__c/A-1", {"Name": "?"})
    assert ambiguous.status_code == 300
    assert sorted(ambiguous.json()) == sorted(
        f"/services/data/v59.0/sobjects/Account/{i}" for i in (body["id"], second))
    unknown = api.patch("/sobjects/Account/Namez/x", {"Name": "?"})
    assert (unknown.status_code, unknown.json()) == (404, [{
        "message": "Provided external ID field does not exist or is not accessible: Namez",
        "errorCode": "NOT_FOUND"}])


def test_describe_global_and_describe(admin, api_as):
    api = api_as(admin)
    glob = api.get("/sobjects").json()
    assert glob["encoding"] == "UTF-8" and glob["maxBatchSize"] == 200
    account = next(o for o in glob["sobjects"] if o["name"] == "Account")
    assert account["keyPrefix"] == "001" and account["urls"]["sobject"] == \
        "/services/data/v59.0/sobjects/Account"
    d = api.get("/sobjects/account/describe").json()
    assert d["name"] == "Account" and d["keyPrefix"] == "001"
    name = next(f for f in d["fields"] if f["name"] == "Name")
    assert {k: name[k] for k in ("type", "length", "nillable", "createable", "updateable",
                                 "filterable", "sortable")} == {
        "type": "string", "length": 255, "nillable": False, "createable": True,
        "updateable": True, "filterable": True, "sortable": True}
    owner = next(f for f in d["fields"] if f["name"] == "OwnerId")
    assert owner["referenceTo"] == ["User"] and owner["relationshipName"] == "Owner"
    assert {"childSObject": "Contact", "field": "AccountId", "relationshipName": "Contacts"
            }.items() <= next(c for c in d["childRelationships"]
                              if c["relationshipName"] == "Contacts").items()
    assert d["urls"]["describe"] == "/services/data/v59.0/sobjects/Account/describe"
    basic = api.get("/sobjects/Account").json()
    assert basic["objectDescribe"]["name"] == "Account" and basic["recentItems"] == []


def test_limits_and_resource_map(admin, api_as):
    api = api_as(admin)
    limits = api.get("/limits").json()
    assert limits["DailyApiRequests"]["Max"] >= limits["DailyApiRequests"]["Remaining"] > 0
    resources = api.get("/").json()
    assert resources["sobjects"] == "/services/data/v59.0/sobjects"
    assert resources["query"] == "/services/data/v59.0/query"
    assert api.client.get("/services/data/latest/limits", headers=api.headers).status_code == 200
