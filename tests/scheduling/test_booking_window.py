"""When a slot can be booked: released N days ahead at a local time, closed M minutes before it starts."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuyue.scheduling.slots import bookable, generate_slots

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
WINDOWS = {"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": 300}]}}
RELEASE = {"type": "booking_window", "params": {"opens_days_ahead": 7, "release_time": "17:00", "closes_minutes_before": 30}}
RULES = [WINDOWS, RELEASE]


def slot_on(day, zone=SHANGHAI, rules=RULES):
    [slot] = generate_slots(rules, zone, day, day)
    return slot


def test_booking_opens_seven_days_ahead_at_five_pm_local():
    slot = slot_on(date(2026, 6, 15))
    assert bookable(RULES, slot, datetime(2026, 6, 8, 16, 59, tzinfo=SHANGHAI)) == (False, "booking_not_open")
    assert bookable(RULES, slot, datetime(2026, 6, 8, 17, 0, tzinfo=SHANGHAI)) == (True, None)


def test_booking_closes_minutes_before_the_start():
    slot = slot_on(date(2026, 6, 15))
    assert bookable(RULES, slot, datetime(2026, 6, 15, 8, 29, 59, tzinfo=SHANGHAI)) == (True, None)
    assert bookable(RULES, slot, datetime(2026, 6, 15, 8, 30, tzinfo=SHANGHAI)) == (False, "booking_closed")


def test_a_started_slot_cannot_be_booked_even_without_a_booking_window():
    slot = slot_on(date(2026, 6, 15), rules=[WINDOWS])
    assert bookable([WINDOWS], slot, slot.starts_at - timedelta(seconds=1)) == (True, None)
    assert bookable([WINDOWS], slot, slot.starts_at) == (False, "booking_closed")


def test_the_release_time_is_local_in_a_zone_with_dst():
    rules = [WINDOWS, RELEASE]
    slot = slot_on(date(2026, 4, 2), BERLIN, rules)  # released 2026-03-26 17:00 CET, before the change
    assert bookable(rules, slot, datetime(2026, 3, 26, 15, 59, tzinfo=ZoneInfo("UTC")))[1] == "booking_not_open"
    assert bookable(rules, slot, datetime(2026, 3, 26, 16, 0, tzinfo=ZoneInfo("UTC"))) == (True, None)
    slot = slot_on(date(2026, 4, 6), BERLIN, rules)  # released 2026-03-30 17:00 CEST, after it
    assert bookable(rules, slot, datetime(2026, 3, 30, 14, 59, tzinfo=ZoneInfo("UTC")))[1] == "booking_not_open"
    assert bookable(rules, slot, datetime(2026, 3, 30, 15, 0, tzinfo=ZoneInfo("UTC"))) == (True, None)


def test_bookable_needs_an_aware_now():
    with pytest.raises(ValueError, match="aware"):
        bookable(RULES, slot_on(date(2026, 6, 15)), datetime(2026, 6, 8, 17, 0))
