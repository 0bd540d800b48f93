"""date_literal_range: every SOQL date literal against a fixed "today"."""

from __future__ import annotations

import datetime as dt

import pytest

from localforce.soql.dates import (
    DATE_LITERALS,
    PARAMETERISED_DATE_LITERALS,
    date_literal_range,
)

D = dt.date
# Wednesday 15 May 2024: week Sun 12 May .. Sat 18 May, Q2 = Apr..Jun.
TODAY = D(2024, 5, 15)

FIXED = {
    "YESTERDAY": (D(2024, 5, 14), D(2024, 5, 15)),
    "TODAY": (D(2024, 5, 15), D(2024, 5, 16)),
    "TOMORROW": (D(2024, 5, 16), D(2024, 5, 17)),
    "LAST_WEEK": (D(2024, 5, 5), D(2024, 5, 12)),
    "THIS_WEEK": (D(2024, 5, 12), D(2024, 5, 19)),
    "NEXT_WEEK": (D(2024, 5, 19), D(2024, 5, 26)),
    "LAST_MONTH": (D(2024, 4, 1), D(2024, 5, 1)),
    "THIS_MONTH": (D(2024, 5, 1), D(2024, 6, 1)),
    "NEXT_MONTH": (D(2024, 6, 1), D(2024, 7, 1)),
    # 91 days: the 90 previous days plus today.
    "LAST_90_DAYS": (D(2024, 2, 15), D(2024, 5, 16)),
    # Starts tomorrow, 90 days.
    "NEXT_90_DAYS": (D(2024, 5, 16), D(2024, 8, 14)),
    "LAST_QUARTER": (D(2024, 1, 1), D(2024, 4, 1)),
    "THIS_QUARTER": (D(2024, 4, 1), D(2024, 7, 1)),
    "NEXT_QUARTER": (D(2024, 7, 1), D(2024, 10, 1)),
    "LAST_YEAR": (D(2023, 1, 1), D(2024, 1, 1)),
    "THIS_YEAR": (D(2024, 1, 1), D(2025, 1, 1)),
    "NEXT_YEAR": (D(2025, 1, 1), D(2026, 1, 1)),
    "LAST_FISCAL_QUARTER": (D(2024, 1, 1), D(2024, 4, 1)),
    "THIS_FISCAL_QUARTER": (D(2024, 4, 1), D(2024, 7, 1)),
    "NEXT_FISCAL_QUARTER": (D(2024, 7, 1), D(2024, 10, 1)),
    "LAST_FISCAL_YEAR": (D(2023, 1, 1), D(2024, 1, 1)),
    "THIS_FISCAL_YEAR": (D(2024, 1, 1), D(2025, 1, 1)),
    "NEXT_FISCAL_YEAR": (D(2025, 1, 1), D(2026, 1, 1)),
}

PARAMETERISED = {
    # LAST_N_DAYS:3 = the 3 previous days and today.
    ("LAST_N_DAYS", 3): (D(2024, 5, 12), D(2024, 5, 16)),
    ("NEXT_N_DAYS", 3): (D(2024, 5, 16), D(2024, 5, 19)),
    ("N_DAYS_AGO", 3): (D(2024, 5, 12), D(2024, 5, 13)),
    ("LAST_N_WEEKS", 2): (D(2024, 4, 28), D(2024, 5, 12)),
    ("NEXT_N_WEEKS", 2): (D(2024, 5, 19), D(2024, 6, 2)),
    ("N_WEEKS_AGO", 2): (D(2024, 4, 28), D(2024, 5, 5)),
    ("LAST_N_MONTHS", 6): (D(2023, 11, 1), D(2024, 5, 1)),
    ("NEXT_N_MONTHS", 8): (D(2024, 6, 1), D(2025, 2, 1)),
    ("N_MONTHS_AGO", 5): (D(2023, 12, 1), D(2024, 1, 1)),
    ("LAST_N_QUARTERS", 2): (D(2023, 10, 1), D(2024, 4, 1)),
    ("NEXT_N_QUARTERS", 3): (D(2024, 7, 1), D(2025, 4, 1)),
    ("N_QUARTERS_AGO", 2): (D(2023, 10, 1), D(2024, 1, 1)),
    ("LAST_N_YEARS", 2): (D(2022, 1, 1), D(2024, 1, 1)),
    ("NEXT_N_YEARS", 2): (D(2025, 1, 1), D(2027, 1, 1)),
    ("N_YEARS_AGO", 3): (D(2021, 1, 1), D(2022, 1, 1)),
    ("LAST_N_FISCAL_QUARTERS", 2): (D(2023, 10, 1), D(2024, 4, 1)),
    ("NEXT_N_FISCAL_QUARTERS", 3): (D(2024, 7, 1), D(2025, 4, 1)),
    ("N_FISCAL_QUARTERS_AGO", 2): (D(2023, 10, 1), D(2024, 1, 1)),
    ("LAST_N_FISCAL_YEARS", 2): (D(2022, 1, 1), D(2024, 1, 1)),
    ("NEXT_N_FISCAL_YEARS", 2): (D(2025, 1, 1), D(2027, 1, 1)),
    ("N_FISCAL_YEARS_AGO", 3): (D(2021, 1, 1), D(2022, 1, 1)),
}


def test_tables_cover_every_literal() -> None:
    assert set(FIXED) == DATE_LITERALS
    assert {name for name, _ in PARAMETERISED} == PARAMETERISED_DATE_LITERALS


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_literal(name: str) -> None:
    assert date_literal_range(name, None, TODAY) == FIXED[name]


@pytest.mark.parametrize(("name", "n"), sorted(PARAMETERISED))
def test_parameterised_literal(name: str, n: int) -> None:
    assert date_literal_range(name, n, TODAY) == PARAMETERISED[(name, n)]


def test_last_n_days_1_is_yesterday_and_today() -> None:
    # Reference: "LAST_N_DAYS:1 includes yesterday and today."
    assert date_literal_range("LAST_N_DAYS", 1, TODAY) == (D(2024, 5, 14), D(2024, 5, 16))


def test_last_n_days_30() -> None:
    start, end = date_literal_range("LAST_N_DAYS", 30, TODAY)
    assert (start, end) == (D(2024, 4, 15), D(2024, 5, 16))
    assert (end - start).days == 31


def test_zero_parameter() -> None:
    assert date_literal_range("N_DAYS_AGO", 0, TODAY) == (TODAY, D(2024, 5, 16))
    assert date_literal_range("LAST_N_DAYS", 0, TODAY) == (TODAY, D(2024, 5, 16))
    assert date_literal_range("NEXT_N_DAYS", 0, TODAY) == (D(2024, 5, 16), D(2024, 5, 16))


def test_name_is_case_insensitive() -> None:
    assert date_literal_range("this_week", None, TODAY) == FIXED["THIS_WEEK"]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2024, 5, 12), (D(2024, 5, 12), D(2024, 5, 19))),  # Sunday starts its week
        (D(2024, 5, 18), (D(2024, 5, 12), D(2024, 5, 19))),  # Saturday ends it
        (D(2024, 12, 31), (D(2024, 12, 29), D(2025, 1, 5))),  # across a year end
    ],
)
def test_weeks_start_on_sunday(today: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert date_literal_range("THIS_WEEK", None, today) == expected


def test_periods_across_year_boundaries() -> None:
    today = D(2024, 1, 2)
    assert date_literal_range("LAST_QUARTER", None, today) == (D(2023, 10, 1), D(2024, 1, 1))
    assert date_literal_range("LAST_MONTH", None, today) == (D(2023, 12, 1), D(2024, 1, 1))
    assert date_literal_range("LAST_WEEK", None, today) == (D(2023, 12, 24), D(2023, 12, 31))
    assert date_literal_range("NEXT_N_MONTHS", 12, D(2024, 12, 5)) == (
        D(2025, 1, 1),
        D(2026, 1, 1),
    )


def test_leap_day_and_month_lengths() -> None:
    assert date_literal_range("THIS_MONTH", None, D(2024, 2, 29)) == (D(2024, 2, 1), D(2024, 3, 1))
    assert date_literal_range("N_DAYS_AGO", 1, D(2024, 3, 1)) == (D(2024, 2, 29), D(2024, 3, 1))


@pytest.mark.parametrize(
    ("name", "n"),
    [("TODAY", 3), ("LAST_N_DAYS", None), ("LAST_N_DAYS", -1), ("LAST_FORTNIGHT", None)],
)
def test_invalid_use_raises(name: str, n: int | None) -> None:
    with pytest.raises(ValueError):
        date_literal_range(name, n, TODAY)
