"""Replication and transport extras (issue #14): ``/sobjects/{T}/updated`` and ``/deleted``
with their window rules, ``/limits/recordCount``, ``If-Modified-Since`` -> 304 on retrieve
and describe, gzip request and response bodies."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json

import pytest
from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)

START = 1_790_000_000.0  # the FixedClock's start


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def wire(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:00.000+0000")


def http_date(seconds: float) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def test_updated_and_deleted_windows(api, clock):
    early = api.post("/sobjects/Account", {"Name": "Early"}).json()["id"]
    clock.advance(600)
    late = api.post("/sobjects/Account", {"Name": "Late"}).json()["id"]
    clock.advance(600)
    assert api.delete(f"/sobjects/Account/{early}").status_code == 204
    clock.advance(120)
    now = clock()

    window = {"start": iso(START - 60), "end": iso(now + 3600)}
    updated = api.get("/sobjects/Account/updated", params=window)
    assert updated.status_code == 200
    assert updated.json() == {"ids": [late], "latestDateCovered": wire(now)}
    first_minutes = api.get("/sobjects/Account/updated",
                            params={"start": iso(START - 60), "end": iso(START + 300)})
    assert first_minutes.json() == {"ids": [], "latestDateCovered": wire(START + 300)}
    deleted = api.get("/sobjects/Account/deleted", params=window).json()
    assert deleted == {"deletedRecords": [
        {"id": early, "deletedDate": dt.datetime.fromtimestamp(
            START + 1200, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")}],
        "earliestDateAvailable": wire(now - 15 * 86400), "latestDateCovered": wire(now)}


@pytest.mark.parametrize(("path", "params", "code", "message"), [
    ("updated", {"start": "2026-09-21T14:00:10+00:00", "end": "2026-09-21T14:00:50+00:00"},
     "INVALID_REPLICATION_DATE", "startDate must be at least one minute greater than endDate"),
    ("updated", {"start": iso(START - 31 * 86400), "end": iso(START)},
     "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"),
    ("deleted", {"start": iso(START - 16 * 86400), "end": iso(START)},
     "INVALID_REPLICATION_DATE", "startDate cannot be more than 15 days ago"),
    ("updated", {"end": iso(START)}, "MISSING_ARGUMENT", "Missing required parameter: start"),
    ("deleted", {"start": "yesterday", "end": iso(START)}, "INVALID_REPLICATION_DATE",
     "Invalid date/time for start: yesterday"),
])
def test_window_errors(api, path, params, code, message):
    r = api.get(f"/sobjects/Account/{path}", params=params)
    assert (r.status_code, r.json()) == (400, [{"errorCode": code, "message": message}])


def test_replication_of_an_unknown_or_unreadable_object_is_not_found(api, make_user, api_as):
    params = {"start": iso(START - 600), "end": iso(START)}
    assert api.get("/sobjects/Nope__c/updated", params=params).status_code == 404
    reader = api_as(make_user(grants={"Contact": ["read"]}))
    assert reader.get("/sobjects/Account/updated", params=params).status_code == 404
    assert reader.get("/sobjects/Contact/updated", params=params).status_code == 200


def test_record_count(api, make_user, api_as):
    for name in ("A", "B"):
        api.post("/sobjects/Account", {"Name": name})
    api.post("/sobjects/Contact", {"LastName": "C"})
    counted = api.get("/limits/recordCount", params={"sObjects": "Account,Contact"})
    assert counted.json() == {"sObjects": [{"count": 2, "name": "Account"},
                                           {"count": 1, "name": "Contact"}]}
    everything = {e["name"]: e["count"] for e in api.get("/limits/recordCount").json()[
        "sObjects"]}
    assert everything["Account"] == 2 and everything["Opportunity"] == 0
    reader = api_as(make_user(grants={"Contact": ["read"]}))
    assert reader.get("/limits/recordCount", params={"sObjects": "Account,Contact"}).json() == {
        "sObjects": [{"count": 1, "name": "Contact"}]}


def test_if_modified_since_on_retrieve_and_describe(api, clock):
    made = api.post("/sobjects/Account", {"Name": "Cached"}).json()["id"]
    path = f"/sobjects/Account/{made}"
    later = {"If-Modified-Since": http_date(clock() + 60)}
    earlier = {"If-Modified-Since": http_date(clock() - 60)}
    same = api.get(path, headers=later)
    assert (same.status_code, same.content) == (304, b"")
    assert api.get(path, headers=earlier).status_code == 200
    assert api.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200
    clock.advance(120)
    api.patch(path, {"Name": "Changed"})
    assert api.get(path, headers=later).json()["Name"] == "Changed"
    gone = api.get("/sobjects/Account/001000000000000AAA", headers=later)
    assert gone.status_code == 404
    described = api.get("/sobjects/Account/describe",
                        headers={"If-Modified-Since": http_date(2_000_000_000)})
    assert described.status_code == 304
    old = api.get("/sobjects/Account/describe", headers={"If-Modified-Since": http_date(0)})
    assert old.status_code == 200 and old.json()["name"] == "Account"


def test_gzip_request_and_response_bodies(api):
    packed = gzip.compress(json.dumps({"Name": "Zipped"}).encode())
    r = api.client.post(api.url("/sobjects/Account"), content=packed, headers={
        **api.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 201 and r.json()["success"] is True
    wide = api.client.get(api.url("/sobjects/Account/describe"), headers={
        **api.headers, "Accept-Encoding": "gzip"})
    assert wide.headers["Content-Encoding"] == "gzip" and wide.json()["name"] == "Account"
    plain = api.client.get(api.url("/sobjects/Account/describe"), headers={
        **api.headers, "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    broken = api.client.post(api.url("/sobjects/Account"), content=b"not gzip", headers={
        **api.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert (broken.status_code, broken.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
