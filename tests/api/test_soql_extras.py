"""SOQL completeness (issue #14): case-insensitive text beyond ASCII on SQLite as on
PostgreSQL, currency literals (USD5000), FORMAT()."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.api.backends import on_both_backends  # noqa: F401  (runs each test twice)


def names(api, soql):
    r = api.query(soql)
    assert r.status_code == 200, r.text
    return [row["Name"] for row in r.json()["records"]]


def test_text_matching_ignores_case_beyond_ascii(api):
    for name in ("Ölwerk GmbH", "ÉCOLE Ünïcode", "Plain Acme"):
        api.post("/sobjects/Account", {"Name": name, "Site": name.upper()})
    assert names(api, "SELECT Name FROM Account WHERE Name = 'ölwerk gmbh'") == ["Ölwerk GmbH"]
    assert names(api, "SELECT Name FROM Account WHERE Name LIKE 'ölw%'") == ["Ölwerk GmbH"]
    assert names(api, "SELECT Name FROM Account WHERE Site LIKE '%ünï%'") == ["ÉCOLE Ünïcode"]
    assert sorted(names(api, "SELECT Name FROM Account WHERE Name IN ('école ünïcode', "
                             "'PLAIN ACME')")) == ["Plain Acme", "ÉCOLE Ünïcode"]
    assert sorted(names(api, "SELECT Name FROM Account WHERE Name != 'ÖLWERK GMBH'")) == [
        "Plain Acme", "ÉCOLE Ünïcode"]
    assert names(api, "SELECT Name FROM Account WHERE Name = 'plain acme'") == ["Plain Acme"]


def test_currency_literals(api):
    for name, revenue in (("Small", 4999.5), ("Big", 5000.75)):
        api.post("/sobjects/Account", {"Name": name, "AnnualRevenue": revenue})
    assert names(api, "SELECT Name FROM Account WHERE AnnualRevenue > USD5000") == ["Big"]
    assert names(api, "SELECT Name FROM Account WHERE AnnualRevenue < USD5000.50") == ["Small"]
    assert names(api, "SELECT Name FROM Account WHERE AnnualRevenue IN (USD4999.5, EUR1)"
                 ) == ["Small"]
    bad = api.query("SELECT Name FROM Account WHERE AnnualRevenue > USDX")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_format_gives_the_users_reading(api, admin):
    api.post("/sobjects/Opportunity", {"Name": "Deal", "StageName": "Prospecting",
                                       "CloseDate": "2026-12-31", "Amount": -1234567.5,
                                       "Probability": 12.5})
    r = api.query("SELECT Name, FORMAT(Amount), FORMAT(CloseDate), FORMAT(Probability), "
                  "FORMAT(CreatedDate), Amount FROM Opportunity")
    assert r.status_code == 200, r.text
    row = r.json()["records"][0]
    zone = api.query(f"SELECT TimeZoneSidKey FROM User WHERE Id = '{admin.user_id}'").json()[
        "records"][0]["TimeZoneSidKey"]
    created = dt.datetime.fromtimestamp(1_790_000_000, ZoneInfo(zone or "UTC"))
    hour = created.hour % 12 or 12
    assert (row["Amount"], row["CloseDate"], row["Probability"]) == (
        "-$1,234,567.50", "12/31/2026", "13%")  # Probability has no decimals: half up
    assert row["CreatedDate"] == (f"{created.month}/{created.day}/{created.year} {hour}:"
                                  f"{created.minute:02d} {'AM' if created.hour < 12 else 'PM'}")


def test_group_by_rollup_and_cube_with_grouping(api):
    for name, industry, rating in (("A", "Energy", "Hot"), ("B", "Energy", "Cold"),
                                   ("C", "Media", "Hot"), ("D", "Energy", "Hot")):
        api.post("/sobjects/Account", {"Name": name, "Industry": industry, "Rating": rating})

    def rows(soql):
        r = api.query(soql)
        assert r.status_code == 200, r.text
        return [{k: v for k, v in x.items() if k != "attributes"} for x in r.json()["records"]]

    assert rows("SELECT Industry, COUNT(Id) n, GROUPING(Industry) g FROM Account "
                "GROUP BY ROLLUP(Industry)") == [
        {"Industry": "Energy", "n": 3, "g": 0}, {"Industry": "Media", "n": 1, "g": 0},
        {"Industry": None, "n": 4, "g": 1}]
    assert rows("SELECT Industry, Rating, COUNT(Id) n FROM Account "
                "GROUP BY ROLLUP(Industry, Rating)") == [
        {"Industry": "Energy", "Rating": "Cold", "n": 1},
        {"Industry": "Energy", "Rating": "Hot", "n": 2},
        {"Industry": "Energy", "Rating": None, "n": 3},
        {"Industry": "Media", "Rating": "Hot", "n": 1},
        {"Industry": "Media", "Rating": None, "n": 1},
        {"Industry": None, "Rating": None, "n": 4}]
    cube = rows("SELECT Industry, Rating, COUNT(Id) n, GROUPING(Rating) gr FROM Account "
                "GROUP BY CUBE(Industry, Rating) ORDER BY Rating NULLS LAST, Industry "
                "NULLS LAST")
    assert [(r["Industry"], r["Rating"], r["n"], r["gr"]) for r in cube] == [
        ("Energy", "Cold", 1, 0), (None, "Cold", 1, 0), ("Energy", "Hot", 2, 0),
        ("Media", "Hot", 1, 0), (None, "Hot", 3, 0), ("Energy", None, 3, 1),
        ("Media", None, 1, 1), (None, None, 4, 1)]
    bad = api.query("SELECT Industry, GROUPING(Rating) FROM Account GROUP BY ROLLUP(Industry)")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
