"""Public-holiday calendars: which days are official days off, and which weekend days are worked (调休).

Backed by the ``holidays`` package, whose China calendar follows each year's
State Council notice, including the weekend days that become working days.
Mainland China announces a year's schedule in the November before it; for a
year not yet announced the package only estimates the statutory holidays and
knows no adjusted working days, so :func:`schedule_published` tells callers
whether to trust the answers for that year.

Vocabulary (every function takes ``calendar="CN"``):

- *listed holiday*: a day the calendar names (statutory days and the
  weekdays swapped off, 调休休息日).
- *public holiday*: a day off inside an official holiday break (放假), i.e. a
  listed holiday, or a weekend day in the same run of consecutive days off as a
  listed holiday. 2026-10-04 (a Sunday in the National Day break) is one;
  an ordinary weekend is not.
- *adjusted working day*: a Saturday or Sunday that is a working day (调休上班).
- *working day*: Monday to Friday unless a listed holiday, or an adjusted working day.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays as holiday_calendars

__all__ = [
    "CALENDARS",
    "holiday_name",
    "is_adjusted_workday",
    "is_open_as_workday",
    "is_public_holiday",
    "is_rest_day",
    "schedule_published",
]

# Calendar code → the country code ``holidays`` knows it by.
CALENDARS: dict[str, str] = {"CN": "CN"}

# A holiday break is never longer than this (the longest so far: 9 days, Spring Festival 2026).
_LONGEST_BREAK = 16


@functools.lru_cache(maxsize=32)
def _calendar(calendar: str, year: int) -> holiday_calendars.HolidayBase:
    if calendar not in CALENDARS:
        raise ValueError(f"unknown holiday calendar {calendar!r} (known: {', '.join(sorted(CALENDARS))})")
    # Neighbouring years too: a break or a swapped day can cross New Year.
    return holiday_calendars.country_holidays(CALENDARS[calendar], years=range(year - 1, year + 2), language="en_US")


def holiday_name(day: date, calendar: str = "CN") -> str | None:
    """The calendar's (English) name of a listed holiday, or ``None``."""
    return _calendar(calendar, day.year).get(day)


def is_adjusted_workday(day: date, calendar: str = "CN") -> bool:
    """A Saturday or Sunday that is a working day (调休上班), e.g. Sunday 2026-09-20."""
    return day.weekday() >= 5 and day in _calendar(calendar, day.year).weekend_workdays


def is_open_as_workday(day: date, calendar: str = "CN") -> bool:
    """Whether offices and schools work that day: a weekday that is not a listed holiday, or an adjusted working day."""
    return _calendar(calendar, day.year).is_working_day(day)


def is_rest_day(day: date, calendar: str = "CN") -> bool:
    """Not a working day: a public holiday or a weekend day that is not an adjusted working day."""
    return not is_open_as_workday(day, calendar)


def is_public_holiday(day: date, calendar: str = "CN") -> bool:
    """A day off inside an official holiday break, weekend days of the break included (see the module docstring)."""
    return day in _break_days(calendar, day.year)


def schedule_published(year: int, calendar: str = "CN") -> bool:
    """Whether the calendar holds the official schedule for ``year`` (adjusted working days known).

    A year in which no weekend day is worked is possible in principle but has
    not happened since the current system began (2000).
    """
    return any(d.year == year for d in _calendar(calendar, year).weekend_workdays)


@functools.lru_cache(maxsize=32)
def _break_days(calendar: str, year: int) -> frozenset[date]:
    """Every day of ``year`` inside a holiday break: runs of days off that contain a listed holiday."""
    listed = _calendar(calendar, year)
    found: set[date] = set()
    for holiday in listed:
        if abs(holiday.year - year) > 1 or holiday in found or is_open_as_workday(holiday, calendar):
            continue
        for direction in (timedelta(days=-1), timedelta(days=1)):
            day = holiday
            for _ in range(_LONGEST_BREAK):
                if is_open_as_workday(day, calendar):
                    break
                found.add(day)
                day += direction
    return frozenset(day for day in found if day.year == year)
