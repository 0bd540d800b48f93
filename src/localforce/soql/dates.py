"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:30`` ...) as day ranges.

Source: SOQL & SOSL Reference, "Date Formats and Date Literals in WHERE".
Each literal names a range of whole days relative to "today" in the user's
locale and time zone; ``=`` means "within the range", ``<`` "before its start"
and ``>`` "after its end".  :func:`date_literal_range` returns that range as a
half-open ``[start, end)`` pair of dates; the caller turns it into datetimes
in whatever time zone it evaluates in.

Choices, each following the reference:

* Weeks start on Sunday (the default US English locale).
* Quarters are calendar quarters (Jan-Mar, ...).  Fiscal literals use the
  calendar year, i.e. an org whose fiscal year starts in January.
* ``LAST_N_DAYS:n`` and ``LAST_90_DAYS`` *include today*: "starts with the
  current day and continues for the past n days. This includes the current
  day, not just previous days. For example, LAST_N_DAYS:1 includes yesterday
  and today."  So ``LAST_N_DAYS:n`` is ``[today - n, today + 1)``: n + 1 days.
  (Older docs said otherwise; observed behaviour and the current text agree on
  this reading - salesforce.stackexchange.com q. 190643.)
* ``NEXT_N_DAYS:n`` and ``NEXT_90_DAYS`` start *tomorrow* and exclude today:
  ``[today + 1, today + n + 1)``.
* ``N_DAYS_AGO:n`` is the single day ``today - n``.
* ``LAST_N_WEEKS/MONTHS/QUARTERS/YEARS:n`` are the n whole periods *before*
  the current one ("starts 00:00:00 of the last day of the previous <period>
  and continues for the past n <periods>"); ``NEXT_N_...:n`` are the n whole
  periods after the current one; ``N_..._AGO:n`` is the single whole period
  n periods before the current one.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "DATE_LITERALS",
    "PARAMETERISED_DATE_LITERALS",
    "date_literal_range",
]

Range = tuple[dt.date, dt.date]

_DAY = dt.timedelta(days=1)

#: Literals without a parameter.
DATE_LITERALS = frozenset(
    {
        "YESTERDAY", "TODAY", "TOMORROW",
        "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
        "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH",
        "LAST_90_DAYS", "NEXT_90_DAYS",
        "LAST_QUARTER", "THIS_QUARTER", "NEXT_QUARTER",
        "LAST_YEAR", "THIS_YEAR", "NEXT_YEAR",
        "LAST_FISCAL_QUARTER", "THIS_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER",
        "LAST_FISCAL_YEAR", "THIS_FISCAL_YEAR", "NEXT_FISCAL_YEAR",
    }
)  # fmt: skip

#: Literals written ``NAME:n``.
PARAMETERISED_DATE_LITERALS = frozenset(
    {
        "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO",
        "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
        "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO",
        "LAST_N_QUARTERS", "NEXT_N_QUARTERS", "N_QUARTERS_AGO",
        "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
        "LAST_N_FISCAL_QUARTERS", "NEXT_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO",
        "LAST_N_FISCAL_YEARS", "NEXT_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO",
    }
)  # fmt: skip

# Period lengths in months for the month-based units.
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def date_literal_range(name: str, n: int | None, today: dt.date) -> Range:
    """The half-open day range ``[start, end)`` that a date literal denotes.

    ``name`` is case-insensitive; ``n`` is required exactly for the
    ``NAME:n`` literals.  Raises ``ValueError`` for an unknown literal or a
    missing/unexpected/negative ``n``.
    """
    key = name.upper()
    if key in DATE_LITERALS:
        if n is not None:
            raise ValueError(f"date literal {name} takes no parameter")
        return _fixed(key, today)
    if key in PARAMETERISED_DATE_LITERALS:
        if n is None or n < 0:
            raise ValueError(f"date literal {name} needs a non-negative parameter")
        return _parameterised(key, n, today)
    raise ValueError(f"unknown date literal: {name}")


def _fixed(key: str, today: dt.date) -> Range:
    if key == "YESTERDAY":
        return today - _DAY, today
    if key == "TODAY":
        return today, today + _DAY
    if key == "TOMORROW":
        return today + _DAY, today + 2 * _DAY
    if key == "LAST_90_DAYS":
        return _parameterised("LAST_N_DAYS", 90, today)
    if key == "NEXT_90_DAYS":
        return _parameterised("NEXT_N_DAYS", 90, today)
    step, unit = key.replace("_FISCAL", "").split("_")
    shift = {"LAST": -1, "THIS": 0, "NEXT": 1}[step]
    return _periods(unit, today, shift, 1)


def _parameterised(key: str, n: int, today: dt.date) -> Range:
    key = key.replace("_FISCAL", "")
    if key == "LAST_N_DAYS":
        return today - n * _DAY, today + _DAY
    if key == "NEXT_N_DAYS":
        return today + _DAY, today + (n + 1) * _DAY
    if key == "N_DAYS_AGO":
        return today - n * _DAY, today - (n - 1) * _DAY
    unit = key.split("_")[-2 if key.endswith("_AGO") else -1].rstrip("S")
    if key.startswith("LAST_N_"):
        return _periods(unit, today, -n, n)
    if key.startswith("NEXT_N_"):
        return _periods(unit, today, 1, n)
    return _periods(unit, today, -n, 1)  # N_<unit>S_AGO


def _periods(unit: str, today: dt.date, shift: int, count: int) -> Range:
    """``count`` whole periods starting ``shift`` periods from the current one."""
    if unit == "WEEK":
        # date.weekday(): Monday=0 ... Sunday=6; weeks start on Sunday.
        week_start = today - dt.timedelta(days=(today.weekday() + 1) % 7)
        start = week_start + dt.timedelta(weeks=shift)
        return start, start + dt.timedelta(weeks=count)
    months = _MONTHS[unit]
    current = (today.year * 12 + today.month - 1) // months * months
    first = current + shift * months
    return _month_start(first), _month_start(first + count * months)


def _month_start(index: int) -> dt.date:
    """First day of the month ``index`` months after January of year 0."""
    return dt.date(index // 12, index % 12 + 1, 1)
