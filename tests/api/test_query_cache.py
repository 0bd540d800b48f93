"""The per-process caches on the read path (resolved plans with their compiled statements,
built schemas, retrieve statements) give the answers an uncached call would: rights, schema
changes, literals, the clock and the caller are all seen on the next call."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable

import pytest
from tests.conftest import FixedClock

from localforce.bootstrap import Services
from localforce.data.errors import BadRequest, NotFound
from localforce.data.query import QueryService, flat_fields
from localforce.domain.models import ObjectPermissions, Org
from localforce.domain.principal import Principal
from localforce.storage.sql.record_store import COMPILED_PER_PLAN

V = "62.0"


def names(services: Services, who: Principal, soql: str) -> list[str]:
    return [r["Name"] for r in services.data.queries.query(who, soql, V)["records"]]


def without_account_read(who: Principal) -> Principal:
    """The same user after an admin took Account away from their permission set."""
    access = dataclasses.replace(who.access, objects=ObjectPermissions({"Contact": frozenset(
        {"read"})}))
    return dataclasses.replace(who, access=access)


def test_a_permission_taken_away_is_seen_at_once(
        services: Services, make_user: Callable[..., Principal]) -> None:
    reader = make_user(grants={"Account": ["read", "create"]})
    services.data.records.create(reader, "Account", {"Name": "Acme"})
    soql = "SELECT Name FROM Account"
    assert names(services, reader, soql) == ["Acme"]
    assert names(services, reader, soql) == ["Acme"]  # now from the cache
    with pytest.raises(BadRequest) as caught:
        services.data.queries.query(without_account_read(reader), soql, V)
    assert caught.value.error_code == "INVALID_TYPE"
    assert names(services, reader, soql) == ["Acme"]  # given back: allowed again


def test_a_user_without_the_permission_is_refused_a_plan_another_user_cached(
        services: Services, admin: Principal, make_user: Callable[..., Principal]) -> None:
    services.data.records.create(admin, "Account", {"Name": "Acme"})
    soql = "SELECT Name, Owner.Name FROM Account"
    assert names(services, admin, soql) == ["Acme"]
    with pytest.raises(BadRequest) as caught:
        services.data.queries.query(make_user(), soql, V)
    assert caught.value.error_code == "INVALID_TYPE"


def test_rows_limited_to_the_caller_follow_the_caller(
        services: Services, make_user: Callable[..., Principal]) -> None:
    first, second = make_user(), make_user()
    soql = "SELECT Id FROM LoginHistory"
    for who in (first, second, first):
        scope = services.data.queries.plan(who, soql).owner_scope
        assert scope is not None and scope[1] == who.user_id


def test_a_using_scope_plan_serves_its_own_user_only(
        services: Services, make_user: Callable[..., Principal]) -> None:
    """``USING SCOPE mine`` names the caller in its filter: kept for the same user's next
    call, never handed to another (whose rights answer alike)."""
    first, second = (make_user(grants={"Account": ["read"]}) for _ in range(2))
    soql = "SELECT Id FROM Account USING SCOPE mine"
    plan = services.data.queries.plan(first, soql)
    assert plan.owner_scope is not None and plan.owner_scope[1] == first.user_id
    assert services.data.queries.plan(first, soql) is plan  # kept, with its statements
    other = services.data.queries.plan(second, soql)
    assert other is not plan and other.owner_scope is not None
    assert other.owner_scope[1] == second.user_id
    mine = services.data.queries.plan(first, soql)
    assert mine is not other and mine.owner_scope == (plan.owner_scope[0], first.user_id)


def test_different_literals_give_different_rows(services: Services, admin: Principal) -> None:
    for name in ("Alpha", "Beta"):
        services.data.records.create(admin, "Account", {"Name": name})
    for _ in range(2):
        for name in ("Alpha", "Beta", "Gamma"):
            expected = [] if name == "Gamma" else [name]
            soql = f"SELECT Name FROM Account WHERE Name = '{name}'"
            assert names(services, admin, soql) == expected


def test_a_new_custom_field_is_seen_by_a_repeated_query(
        services: Services, org: Org, admin: Principal) -> None:
    services.data.declare(org.id, {"name": "Thing__c", "label": "Thing", "fields": [
        {"name": "Code__c", "type": "Text", "length": 20}]})
    services.data.records.create(admin, "Thing__c", {"Name": "T1", "Code__c": "c1"})
    soql = "SELECT FIELDS(CUSTOM) FROM Thing__c LIMIT 10"
    before = services.data.queries.query(admin, soql, V)["records"][0]
    assert "Code__c" in before and "Size__c" not in before
    services.data.declare(org.id, {"name": "Thing__c", "label": "Thing", "fields": [
        {"name": "Size__c", "type": "Number"}]})
    after = services.data.queries.query(admin, soql, V)["records"][0]
    assert after["Code__c"] == "c1" and "Size__c" in after


def test_date_literals_follow_the_clock(
        services: Services, admin: Principal, clock: FixedClock) -> None:
    services.data.records.create(admin, "Account", {"Name": "Today"})
    soql = "SELECT Name FROM Account WHERE CreatedDate = TODAY"
    assert names(services, admin, soql) == ["Today"]
    clock.advance(3 * 86400)
    assert names(services, admin, soql) == []


def test_child_rows_follow_the_parents_of_each_call(
        services: Services, admin: Principal) -> None:
    soql = "SELECT Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name"
    for name in ("A", "B"):
        account = services.data.records.create(admin, "Account", {"Name": name})
        services.data.records.create(admin, "Contact", {"LastName": f"of {name}",
                                                        "AccountId": account.id})
        records = services.data.queries.query(admin, soql, V)["records"]
        assert [[c["LastName"] for c in r["Contacts"]["records"]] for r in records] == [
            [f"of {n}"] for n in "AB"[:len(records)]]


def test_the_plan_cache_is_bounded(services: Services, admin: Principal) -> None:
    queries = QueryService(services.data.store, services.data.schema_for, services.clock,
                           max_plans=3)
    for n in range(10):
        queries.query(admin, f"SELECT Id FROM Account LIMIT {n + 1}", V)
    assert len(queries.plans) == 3


def test_retrieves_bind_each_id_and_field_list(
        services: Services, make_user: Callable[..., Principal]) -> None:
    reader = make_user(grants={"Account": ["read", "create"]})
    made = {name: services.data.records.create(reader, "Account", {
        "Name": name, "Phone": f"555-{name}"}).id for name in ("One", "Two")}
    for _ in range(2):
        for name, record_id in made.items():
            full = services.data.records.retrieve(reader, "Account", record_id, V)
            assert (full["Name"], full["Phone"]) == (name, f"555-{name}")
            some = services.data.records.retrieve(reader, "Account", record_id, V, "Phone")
            assert set(some) == {"attributes", "Phone"} and some["Phone"] == f"555-{name}"
    with pytest.raises(NotFound):
        services.data.records.retrieve(without_account_read(reader), "Account",
                                       made["One"], V)



def test_statements_kept_with_a_plan_are_capped(services: Services, admin: Principal) -> None:
    for name in "ABCDEFGHIJKL":
        services.data.records.create(admin, "Account", {"Name": name})
    plan = services.data.queries.plan(admin, "SELECT Name FROM Account ORDER BY Name")
    for offset in range(12):  # positional pages, as an old locator's
        rows = services.data.store.page(plan, 1, offset=offset)
        assert [row[1] for row, _ in rows] == ["ABCDEFGHIJKL"[offset]]
    assert services.data.store.statements.count(plan) == COMPILED_PER_PLAN  # type: ignore[attr-defined]


def test_a_flat_query_is_shaped_as_the_general_walk_shapes_it(
        services: Services, admin: Principal) -> None:
    """A query of its object's own fields only is shaped by ``flat_records`` (worked out once
    per plan): the same records, keys in the same order, as ``_record``'s walk gives them —
    values converted by type (int, currency, boolean) and nulls included."""
    services.data.records.create(admin, "Account", {
        "Name": "Acme", "NumberOfEmployees": "5", "AnnualRevenue": 12.5, "Site": "HQ"})
    services.data.records.create(admin, "Account", {"Name": "Bare"})
    queries = services.data.queries
    plan = queries.plan(admin, "SELECT Id, Name, NumberOfEmployees, AnnualRevenue, IsDeleted, "
                               "CreatedDate, Site FROM Account ORDER BY Name")
    rows = [row for row, _ in queries.store.page(plan, 10)]
    shaped = queries.records(plan, V, rows)
    assert plan.shaping["flat"] is not None
    walked = [queries._record(plan, V, row, {}, dt.UTC) for row in rows]
    assert json.dumps(shaped) == json.dumps(walked)
    assert [(r["Name"], r["NumberOfEmployees"], r["AnnualRevenue"], r["IsDeleted"])
            for r in shaped] == [("Acme", 5, 12.5, False), ("Bare", None, None, False)]
    parent = queries.plan(admin, "SELECT Name, Owner.Name FROM Account")
    queries.records(parent, V, [])
    assert parent.shaping["flat"] is None  # a parent's field: the general walk
    # an aggregate's outputs are (alias, select index): never taken for fields, even so named
    assert flat_fields(queries.plan(admin, "SELECT COUNT(Id) field FROM Account")) is None


def test_a_date_literal_plan_serves_the_rest_of_the_day_in_its_zone(
        services: Services, admin: Principal, make_user: Callable[..., Principal],
        clock: FixedClock) -> None:
    """A plan of ``TODAY`` is resolved once for the calls of one day in one time zone: of this
    user, or of another in the same zone whose rights answer alike; not for a user elsewhere."""
    soql = "SELECT Name FROM Account WHERE CreatedDate = TODAY"
    queries = services.data.queries
    zone = queries.time_zone(services.data.schema_for(admin.org_id), admin)
    local = dt.datetime.fromtimestamp(clock(), zone)
    clock.now = dt.datetime.combine(local.date(), dt.time(9), zone).timestamp()
    first = queries.plan(admin, soql)
    clock.advance(3600)
    assert queries.plan(admin, soql) is first
    other = make_user("System Administrator")
    assert queries.plan(other, soql) is first  # the same zone, the same rights
    user = services.directory.store.get_user(other.user_id)
    assert user is not None
    services.directory.store.save_user(dataclasses.replace(user, time_zone="Asia/Tokyo"))
    assert queries.plan(other, soql) is not first  # another zone: its own today


def test_a_date_literal_plan_ends_at_its_users_midnight(
        services: Services, admin: Principal, clock: FixedClock) -> None:
    queries = services.data.queries
    zone = queries.time_zone(services.data.schema_for(admin.org_id), admin)
    local = dt.datetime.fromtimestamp(clock(), zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), zone)
    clock.now = midnight.timestamp() - 0.25
    services.data.records.create(admin, "Account", {"Name": "Late"})
    soql = "SELECT Name FROM Account WHERE CreatedDate = TODAY"
    assert names(services, admin, soql) == ["Late"]
    clock.advance(0.5)  # the next day in the user's zone
    assert names(services, admin, soql) == []
    clock.advance(-0.5)  # a clock set back: that day's plan again, not the next day's
    assert names(services, admin, soql) == ["Late"]
