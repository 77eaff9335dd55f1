"""Mainland-China holidays, including adjusted working days (调休), per the State Council's 2026 notice."""

from datetime import date

import pytest

from yuyue.scheduling import holidays

# 国务院办公厅关于2026年部分节假日安排的通知: every break and every worked weekend day.
BREAKS_2026 = [
    (date(2026, 1, 1), date(2026, 1, 3)),
    (date(2026, 2, 15), date(2026, 2, 23)),
    (date(2026, 4, 4), date(2026, 4, 6)),
    (date(2026, 5, 1), date(2026, 5, 5)),
    (date(2026, 6, 19), date(2026, 6, 21)),
    (date(2026, 9, 25), date(2026, 9, 27)),
    (date(2026, 10, 1), date(2026, 10, 7)),
]
ADJUSTED_WORKDAYS_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]


def _days(first, last):
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def test_public_holidays_of_2026_are_exactly_the_official_breaks():
    expected = {day for first, last in BREAKS_2026 for day in _days(first, last)}
    found = {day for day in _days(date(2026, 1, 1), date(2026, 12, 31)) if holidays.is_public_holiday(day)}
    assert found == expected


def test_adjusted_working_days_of_2026_are_exactly_the_official_ones():
    found = [day for day in _days(date(2026, 1, 1), date(2026, 12, 31)) if holidays.is_adjusted_workday(day)]
    assert found == ADJUSTED_WORKDAYS_2026


def test_a_sunday_worked_for_national_day_is_a_working_day():
    sunday = date(2026, 9, 20)
    assert sunday.weekday() == 6
    assert holidays.is_adjusted_workday(sunday)
    assert holidays.is_open_as_workday(sunday)
    assert not holidays.is_rest_day(sunday)
    assert not holidays.is_public_holiday(sunday)


def test_a_weekend_day_inside_a_break_is_a_public_holiday_but_not_a_listed_one():
    sunday = date(2026, 10, 4)
    assert holidays.is_public_holiday(sunday)
    assert holidays.holiday_name(sunday) is None
    assert holidays.holiday_name(date(2026, 10, 1)) == "National Day"


def test_an_ordinary_weekend_is_a_rest_day_but_not_a_public_holiday():
    saturday = date(2026, 3, 14)
    assert holidays.is_rest_day(saturday)
    assert not holidays.is_public_holiday(saturday)
    assert not holidays.is_adjusted_workday(saturday)


def test_a_weekday_swapped_off_is_a_public_holiday():
    friday = date(2026, 1, 2)  # worked on Sunday 2026-01-04 instead
    assert holidays.is_public_holiday(friday)
    assert not holidays.is_open_as_workday(friday)


def test_whether_a_years_schedule_is_published_is_known():
    assert holidays.schedule_published(2026)
    assert not holidays.schedule_published(2031)


def test_an_unknown_calendar_is_refused():
    with pytest.raises(ValueError, match="unknown holiday calendar 'XX'"):
        holidays.is_public_holiday(date(2026, 1, 1), calendar="XX")
