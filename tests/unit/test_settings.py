"""Settings: where each value comes from, how text becomes a field's type, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from localforce.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LOCALFORCE_* variable of the machine, and a working folder without localforce.toml."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("LOCALFORCE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_defaults() -> None:
    s = Settings()
    assert (s.home, s.database_url, s.host, s.port, s.workers, s.request_threads) == (
        Path(".localforce"), None, "127.0.0.1", 8080, 1, 2)
    assert (s.trusted_proxies, s.jwt_audiences, s.metrics_public, s.maintenance) == (
        [], [], False, True)
    assert (s.cache_seconds, s.key_rotation_days, s.session_timeout_minutes) == (1.0, 90.0, 120)
    assert s.effective_database_url == "sqlite:///.localforce/localforce.db"
    assert s.effective_public_url == "http://127.0.0.1:8080"
    assert Settings().trusted_proxies is not s.trusted_proxies  # a list each


def test_the_caller_wins_over_the_environment_which_wins_over_the_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    Path("localforce.toml").write_text('port = 8001\nhost = "0.0.0.0"\nworkers = 3\n')
    monkeypatch.setenv("LOCALFORCE_PORT", "8002")
    monkeypatch.setenv("localforce_workers", "4")  # the variable's case does not matter
    s = Settings(port=8003)
    assert (s.port, s.workers, s.host) == (8003, 4, "0.0.0.0")
    assert Settings().port == 8002


def test_text_from_the_environment_becomes_each_fields_type(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"HOME": "/srv/lf", "PORT": " 8443 ", "CACHE_SECONDS": "2.5",
                        "DAILY_API_REQUESTS": "9007199254740993", "WORKERS": "2.0",
                        "METRICS_PUBLIC": "yes", "MAINTENANCE": "Off",
                        "TRUSTED_PROXIES": '["10.0.0.0/8", "127.0.0.1"]',
                        "SEED": "seed.toml", "KEY_ROTATION_DAYS": "30"}.items():
        monkeypatch.setenv(f"LOCALFORCE_{name}", value)
    s = Settings()
    assert (s.home, s.port, s.cache_seconds, s.metrics_public, s.maintenance) == (
        Path("/srv/lf"), 8443, 2.5, True, False)
    assert (s.trusted_proxies, s.seed, s.key_rotation_days) == (
        ["10.0.0.0/8", "127.0.0.1"], Path("seed.toml"), 30.0)
    assert (s.daily_api_requests, s.workers) == (2**53 + 1, 2)  # exact; a whole float


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("LOCALFORCE_PORT", "http", "LOCALFORCE_PORT: expected a whole number, got 'http'"),
    ("LOCALFORCE_PORT", "80.5", "LOCALFORCE_PORT: expected a whole number, got '80.5'"),
    ("LOCALFORCE_METRICS_PUBLIC", "2", "LOCALFORCE_METRICS_PUBLIC: expected true or false, "
                                       "got '2'"),
    ("LOCALFORCE_TRUSTED_PROXIES", "10.0.0.1", 'LOCALFORCE_TRUSTED_PROXIES: expected a JSON '
                                               'list of strings, like ["a", "b"]'),
    ("LOCALFORCE_TRUSTED_PROXIES", "[1]", 'LOCALFORCE_TRUSTED_PROXIES: expected a JSON list '
                                          'of strings, like ["a", "b"]'),
    ("LOCALFORCE_CACHE_SECONDS", "nan", "LOCALFORCE_CACHE_SECONDS: expected a finite number, "
                                        "got 'nan'"),
    ("LOCALFORCE_CACHE_SECONDS", "-1", "LOCALFORCE_CACHE_SECONDS: must be at least 0, got -1"),
    ("LOCALFORCE_REQUEST_THREADS", "0", "LOCALFORCE_REQUEST_THREADS: must be at least 1, "
                                        "got 0"),
    ("LOCALFORCE_SESSION_TIMEOUT_MINUTES", "1441",
     "LOCALFORCE_SESSION_TIMEOUT_MINUTES: must be at most 1440, got 1441"),
    ("LOCALFORCE_BULK_LEASE_SECONDS", "0", "LOCALFORCE_BULK_LEASE_SECONDS: must be greater "
                                           "than 0, got 0"),
    ("LOCALFORCE_KEY_ROTATION_DAYS", "0.5",
     "key_rotation_days must be longer than key_publish_ahead_hours"),
])
def test_a_value_that_does_not_fit_is_refused_naming_where_it_came_from(
        monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        Settings()
    assert str(refused.value) == message


def test_the_files_values_are_checked_too_and_other_keys_ignored() -> None:
    Path("localforce.toml").write_text('port = 8001\ntrusted_proxies = ["::1"]\nnot_ours = 1\n')
    s = Settings()
    assert (s.port, s.trusted_proxies) == (8001, ["::1"])
    Path("localforce.toml").write_text('session_timeout_minutes = "long"\n')
    with pytest.raises(SettingsError, match="^localforce.toml: session_timeout_minutes: "
                                            "expected a whole number, got 'long'$"):
        Settings()
    Path("localforce.toml").write_text("port = \n")
    with pytest.raises(SettingsError, match="^localforce.toml cannot be read: "):
        Settings()


def test_other_environment_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALFORCE_NOT_A_SETTING", "x")
    monkeypatch.setenv("PORT", "1")
    assert Settings().port == 8080


def test_the_callers_values_are_checked_and_unknown_names_refused() -> None:
    with pytest.raises(SettingsError, match="^authorization_code_seconds: must be at most 600"):
        Settings(authorization_code_seconds=601)
    with pytest.raises(TypeError, match="unknown settings: prot"):
        Settings(prot=1)
    assert Settings(port=8081.0, home="x").port == 8081
    assert Settings(secret_key=None, database_url=None).database_url is None


def test_overrides_leave_none_alone_and_are_checked() -> None:
    s = Settings(port=9000, public_url="https://lf.example")
    moved = s.with_overrides(port=9001, host=None)
    assert (moved.port, moved.host, moved.public_url, s.port) == (
        9001, "127.0.0.1", "https://lf.example", 9000)
    with pytest.raises(SettingsError, match="^workers: expected a whole number, got 'two'$"):
        s.with_overrides(workers="two")
    with pytest.raises(SettingsError, match="key_rotation_days must be longer"):
        s.with_overrides(key_rotation_days=0.5)


def test_the_secret_key_is_not_in_the_repr() -> None:
    s = Settings(secret_key="c2VjcmV0LWtleS1ub3QtdG8tYmUtcHJpbnRlZC0xMjM0")
    assert "c2VjcmV0" not in repr(s)
    assert "port=8080" in repr(s)
