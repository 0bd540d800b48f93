"""API request allocation (rolling 24 hours per org), login rate limits per user and per IP,
the API usage log, and /metrics — through the ASGI app with an injected clock."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from starlette.testclient import TestClient
from tests.conftest import FixedClock, make_settings
from tests.policies.conftest import KEY, PASSWORD, SECRET, SECURITY_TOKEN, World, password_form

from localforce.settings import Settings
from localforce.storage.sql import tables as t
from localforce.web.app import create_app

LIMITS = "/services/data/v59.0/limits"
SPENT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
RATE = {"error": "rate_limit_exceeded", "error_description": "number of logins exceeded"}


@pytest.fixture
def settings(home) -> Settings:  # type: ignore[no-untyped-def]
    # The test client is a loopback peer: count it per IP too (test_loopback_rate.py has the
    # default, which exempts direct loopback clients).
    return make_settings(home, daily_api_requests=3, login_rate_per_user_hour=4,
                         token_rate_per_ip_minute=6, rate_limit_loopback=True)


def access_token(world: World) -> str:
    response = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def call(world: World, token: str, path: str = LIMITS) -> Any:
    return world.client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_allocation_is_reported_then_refused_then_restored_by_the_rolling_window(
        world: World, clock: FixedClock) -> None:
    token = access_token(world)
    first = call(world, token)
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/3"
    assert first.json()["DailyApiRequests"] == {"Max": 3, "Remaining": 2}
    assert call(world, token).headers["Sforce-Limit-Info"] == "api-usage=2/3"
    clock.advance(3600)
    assert call(world, token).status_code == 200
    spent = call(world, token)
    assert (spent.status_code, spent.json()) == (403, SPENT)
    # 24 hours after the first two requests they leave the window; the third still counts.
    clock.advance(86_400 - 3600)
    again = call(world, access_token(world))
    assert again.status_code == 200
    assert again.json()["DailyApiRequests"] == {"Max": 3, "Remaining": 1}


def test_a_refused_request_still_reports_usage(world: World) -> None:
    """The 403 carries ``Sforce-Limit-Info`` like every data-API response (simple-salesforce
    reads it from each response); the refused request itself is not counted."""
    token = access_token(world)
    for _ in range(3):
        call(world, token)
    for _ in range(2):
        spent = call(world, token, "/services/data/v59.0/sobjects")
        assert (spent.status_code, spent.json()) == (403, SPENT)
        assert spent.headers["Sforce-Limit-Info"] == "api-usage=3/3"


def test_each_request_is_counted_once(world: World) -> None:
    """``/limits`` reads the allocation without counting again, and the data API's old per-day
    counter is gone (migration 0007_cleanup)."""
    token = access_token(world)
    assert [call(world, token).json()["DailyApiRequests"] for _ in range(2)] == [
        {"Max": 3, "Remaining": 2}, {"Max": 3, "Remaining": 1}]
    with world.services.engine.connect() as c:
        counted = c.execute(select(func.sum(t.counters.c.count)).where(
            t.counters.c.key == f"api:{world.org.id}")).scalar_one()
        assert counted == 2
        assert not inspect(c).has_table("api_usage")


def test_api_usage_log_records_each_call_without_the_query(world: World) -> None:
    token = access_token(world)
    call(world, token, LIMITS + "?x=secret-ish")
    call(world, token, "/services/data/v59.0/sobjects/Nope__c")
    world.client.get(LIMITS, headers={"Authorization": "Bearer garbage"})
    world.services.audit.writer.flush()
    with world.services.engine.connect() as c:
        rows = c.execute(select(t.api_usage_log).order_by(t.api_usage_log.c.id)).mappings().all()
    assert [(r["method"], r["path"], r["status"], r["user_id"], r["app_id"]) for r in rows] == [
        ("GET", LIMITS, 200, world.user.id, world.app.id),
        ("GET", "/services/data/v59.0/sobjects/Nope__c", 404, world.user.id, world.app.id),
        ("GET", LIMITS, 401, None, None),
    ]
    assert all(r["duration_us"] >= 0 and r["at_ms"] == 1_790_000_000_000 for r in rows)


def test_a_stopping_worker_writes_the_usage_log_entries_it_holds(world: World) -> None:
    token = access_token(world)
    with TestClient(create_app(world.services), client=("127.0.0.1", 50000)) as client:
        assert client.get(LIMITS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # No flush() here: the app's shutdown did it.
    with world.services.engine.connect() as c:
        paths = c.execute(select(t.api_usage_log.c.path)).scalars().all()
    assert paths == [LIMITS]


def test_login_rate_per_user(world: World) -> None:
    for _ in range(4):
        assert world.token(**password_form()).status_code == 200
    refused = world.token(**password_form())
    assert (refused.status_code, refused.json()) == (400, RATE)
    assert world.history()[-1]["status"] == "Login Rate Exceeded"
    # Every flow counts against the same user: client credentials runs as the admin.
    refused = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
    assert refused.json() == RATE


def test_login_rate_per_ip_counts_every_credential_post(world: World,
                                                        clock: FixedClock) -> None:
    for _ in range(6):  # unknown user: only the per-IP budget is spent
        world.token(**password_form(username="nobody@acme.test"))
    refused = world.token(**password_form(password=PASSWORD + SECURITY_TOKEN))
    assert (refused.status_code, refused.json()) == (400, RATE)
    assert world.client.post("/services/oauth2/revoke", data={"token": "x"}).json() == RATE
    soap = world.client.post("/services/Soap/u/59.0", content="<x/>",
                             headers={"Content-Type": "text/xml"})
    assert soap.status_code == 500 and "LOGIN_RATE_EXCEEDED" in soap.text
    setup = world.client.post("/setup/login", data={"username": "a@acme.test", "password": "x"})
    assert setup.status_code == 429 and "Too many login attempts" in setup.text
    clock.advance(60)
    assert world.token(**password_form()).status_code == 200


def test_client_secret_guessing_spends_the_ip_budget(world: World, clock: FixedClock) -> None:
    """Guessing a consumer secret (client credentials, introspection) is throttled like a
    password (anchors.md §3 #21, #35)."""
    invalid = {"error": "invalid_client", "error_description": "invalid client credentials"}
    for guess in range(3):
        wrong = world.token(grant_type="client_credentials", client_id=KEY,
                            client_secret=f"guess-{guess}")
        assert (wrong.status_code, wrong.json()) == (400, invalid)
        probe = world.client.post("/services/oauth2/introspect", auth=(KEY, f"guess-{guess}"),
                                  data={"token": "x"})
        assert (probe.status_code, probe.json()) == (401, invalid)
    right = world.token(grant_type="client_credentials", client_id=KEY, client_secret=SECRET)
    assert (right.status_code, right.json()) == (400, RATE)
    clock.advance(60)
    assert access_token(world)


def test_metrics_are_scraped_and_move(world: World) -> None:
    def scrape() -> dict[str, float]:
        response = world.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        values = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    before = scrape()
    token = access_token(world)
    world.token(**password_form(password="wrong"))
    call(world, token)
    for _ in range(3):
        call(world, token)  # the third is refused
    world.services.audit.writer.flush()
    after = scrape()

    def moved(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert moved('localforce_token_grants_total{grant_type="client_credentials",'
                 'outcome="success"}') == 1
    assert moved('localforce_token_grants_total{grant_type="password",'
                 'outcome="invalid_grant"}') == 1
    assert moved('localforce_login_attempts_total{login_type="Remote Access 2.0",'
                 'status="Invalid Password"}') == 1
    assert moved('localforce_data_api_requests_total{status="200"}') == 3
    assert moved('localforce_data_api_requests_total{status="403"}') == 1
    assert moved('localforce_limit_rejections_total{limit="daily_api_requests"}') == 1
    assert moved('localforce_request_duration_seconds_count{surface="data"}') == 4


def test_metrics_are_not_public_by_default(world: World, peer: Any) -> None:
    assert peer("203.0.113.9").get("/metrics").status_code == 404
    proxied = world.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404
