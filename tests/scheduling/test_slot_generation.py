"""Slot generation by example: patterns, special days, closures, holidays, channels and DST."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from yuyue.errors import InvalidInput
from yuyue.scheduling.slots import Slot, generate_slots, to_utc

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly(intervals_by_day, slot_minutes=60, capacity=8, **extra):
    return {"type": "weekly_hours", "params": {"weekdays": intervals_by_day, "slot_minutes": slot_minutes, "capacity": capacity, **extra}}


def every_day(*spans):
    return {day: [{"start": a, "end": b} for a, b in spans] for day in WEEKDAYS}


def windows(*spans, capacity=300, **extra):
    return {"type": "fixed_windows", "params": {"windows": [{"start": a, "end": b, "capacity": capacity} for a, b in spans], **extra}}


def local_starts(slots, zone):
    return [slot.starts_at.astimezone(zone).strftime("%m-%d %H:%M") for slot in slots]


def test_weekly_hours_cut_each_interval_into_slots():
    rules = [weekly({"mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "16:00"}]})]
    slots = generate_slots(rules, SHANGHAI, date(2026, 6, 1), date(2026, 6, 7))
    assert local_starts(slots, SHANGHAI) == ["06-01 09:00", "06-01 10:00", "06-01 11:00", "06-01 14:00", "06-01 15:00"]
    assert slots[0] == Slot(datetime(2026, 6, 1, 1, 0, tzinfo=UTC), datetime(2026, 6, 1, 2, 0, tzinfo=UTC), date(2026, 6, 1), {"default": 8}, SHANGHAI)


def test_step_shorter_than_the_slot_starts_a_slot_every_step():
    rules = [weekly({"tue": [{"start": "09:00", "end": "11:00"}]}, slot_minutes=60, step_minutes=30)]
    assert local_starts(generate_slots(rules, SHANGHAI, date(2026, 6, 2), date(2026, 6, 2)), SHANGHAI) == ["06-02 09:00", "06-02 09:30", "06-02 10:00"]


def test_fixed_windows_apply_only_on_their_weekdays_and_keep_their_label():
    rule = windows(("09:30", "11:30"), capacity=50, weekdays=["sat", "sun"])
    rule["params"]["windows"][0]["label"] = {"zh-Hans": "上午场"}
    slots = generate_slots([rule], SHANGHAI, date(2026, 6, 1), date(2026, 6, 7))
    assert [slot.local_date for slot in slots] == [date(2026, 6, 6), date(2026, 6, 7)]
    assert slots[0].label == {"zh-Hans": "上午场"}


def test_capacity_split_by_channel_gives_the_rest_to_the_default_channel():
    split = windows(("09:00", "10:00"), capacity=10000, capacity_by_channel={"individual": 8000, "group": 2000})
    [slot] = generate_slots([split], SHANGHAI, date(2026, 6, 2), date(2026, 6, 2))
    assert slot.capacities == {"individual": 8000, "group": 2000}
    partial = weekly(every_day(("09:00", "10:00")), capacity=10, capacity_by_channel={"group": 4})
    [slot] = generate_slots([partial], SHANGHAI, date(2026, 6, 2), date(2026, 6, 2))
    assert slot.capacities == {"group": 4, "default": 6}
    assert slot.capacity == 10


def test_a_window_may_split_its_own_capacity():
    rule = windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=100, capacity_by_channel={"group": 20})
    rule["params"]["windows"][1]["capacity_by_channel"] = {"group": 50, "individual": 50}
    first, second = generate_slots([rule], SHANGHAI, date(2026, 6, 2), date(2026, 6, 2))
    assert (first.capacities, second.capacities) == ({"group": 20, "default": 80}, {"group": 50, "individual": 50})


def test_closed_dates_close_listed_dates_and_weekdays():
    rules = [windows(("09:00", "11:00")), {"type": "closed_dates", "params": {"dates": ["2026-06-03"], "weekdays": ["mon"]}}]
    slots = generate_slots(rules, SHANGHAI, date(2026, 6, 1), date(2026, 6, 4))
    assert [slot.local_date.day for slot in slots] == [2, 4]


def test_a_museum_closed_on_mondays_opens_on_a_holiday_monday_when_configured():
    closed = {"type": "closed_dates", "params": {"weekdays": ["mon"], "open_on_public_holidays": True}}
    slots = generate_slots([windows(("09:00", "11:00")), closed], SHANGHAI, date(2026, 10, 5), date(2026, 10, 12))
    assert [slot.local_date.day for slot in slots] == [5, 6, 7, 8, 9, 10, 11]  # Mon 5th is National Day; Mon 12th is not


def test_holiday_throttle_halves_capacity_on_national_day():
    rules = [
        windows(("09:00", "11:00"), capacity=10000, capacity_by_channel={"individual": 8000, "group": 2000}),
        {"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": 0.5}},
    ]
    before, national_day = generate_slots(rules, SHANGHAI, date(2026, 9, 30), date(2026, 10, 1))
    assert before.capacities == {"individual": 8000, "group": 2000}
    assert national_day.local_date == date(2026, 10, 1)
    assert national_day.capacities == {"individual": 4000, "group": 1000}


def test_holiday_throttle_rounds_down_without_float_error():
    rules = [windows(("09:00", "11:00"), capacity=10), {"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": 0.7}}]
    [slot] = generate_slots(rules, SHANGHAI, date(2026, 10, 1), date(2026, 10, 1))
    assert slot.capacities == {"default": 7}


def test_holiday_throttle_on_rest_days_covers_ordinary_weekends_but_not_worked_ones():
    rules = [
        windows(("09:00", "11:00"), capacity=100),
        {"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": 1.5, "applies_to": "rest_days"}},
    ]
    slots = generate_slots(rules, SHANGHAI, date(2026, 9, 18), date(2026, 9, 20))  # Fri, Sat, Sun (worked)
    assert [slot.capacities["default"] for slot in slots] == [100, 150, 100]


def test_timed_entry_only_on_holidays():
    rules = [windows(("09:00", "11:00")), {"type": "holiday_throttle", "params": {"calendar": "CN", "closed_otherwise": True}}]
    slots = generate_slots(rules, SHANGHAI, date(2026, 9, 28), date(2026, 10, 9))
    assert [slot.local_date.day for slot in slots] == [1, 2, 3, 4, 5, 6, 7]


COURSE = weekly(
    {
        "fri": [{"start": "18:00", "end": "20:00"}],
        "sat": [{"start": "09:00", "end": "11:00"}],
        "sun": [{"start": "09:00", "end": "11:00"}],
    }
)


def test_an_adjusted_working_day_keeps_its_own_weekdays_pattern_by_default():
    slots = generate_slots([COURSE], SHANGHAI, date(2026, 9, 20), date(2026, 9, 20))  # Sunday, worked
    assert local_starts(slots, SHANGHAI) == ["09-20 09:00", "09-20 10:00"]


def test_an_adjusted_working_day_can_follow_a_weekdays_pattern():
    rule = weekly(COURSE["params"]["weekdays"], on_adjusted_workdays="fri")
    slots = generate_slots([rule], SHANGHAI, date(2026, 9, 19), date(2026, 9, 20))
    assert local_starts(slots, SHANGHAI) == ["09-19 09:00", "09-19 10:00", "09-20 18:00", "09-20 19:00"]


def test_an_adjusted_working_day_can_be_closed():
    rule = windows(("09:30", "11:30"), weekdays=["sat", "sun"], on_adjusted_workdays="closed")
    slots = generate_slots([rule], SHANGHAI, date(2026, 10, 10), date(2026, 10, 11))  # Sat worked, Sun not
    assert [slot.local_date for slot in slots] == [date(2026, 10, 11)]


def test_a_public_holiday_can_follow_sundays_pattern():
    rule = weekly(COURSE["params"]["weekdays"], on_public_holidays="sun")
    slots = generate_slots([rule], SHANGHAI, date(2026, 10, 1), date(2026, 10, 1))  # Thursday, National Day
    assert local_starts(slots, SHANGHAI) == ["10-01 09:00", "10-01 10:00"]


def test_special_hours_replace_the_weekly_pattern_on_their_date():
    special = {
        "type": "special_hours",
        "params": {
            "days": [
                {"date": "2026-12-24", "intervals": [{"start": "10:00", "end": "12:00"}]},
                {"date": "2026-12-25", "windows": [{"start": "19:00", "end": "21:00", "capacity": 30, "label": "Concert"}]},
                {"date": "2026-12-26", "intervals": []},
            ]
        },
    }
    rules = [weekly(every_day(("09:00", "17:00")), capacity=8), special]
    slots = generate_slots(rules, SHANGHAI, date(2026, 12, 23), date(2026, 12, 27))
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.local_date.day, []).append(slot)
    assert sorted(by_day) == [23, 24, 25, 27]
    assert local_starts(by_day[24], SHANGHAI) == ["12-24 10:00", "12-24 11:00"]
    assert by_day[24][0].capacities == {"default": 8}  # inherited from weekly_hours
    assert [(s.capacities, s.label) for s in by_day[25]] == [({"default": 30}, "Concert")]
    assert len(by_day[23]) == len(by_day[27]) == 8


def test_special_hours_open_a_closed_weekday_but_not_a_closed_date():
    special = {
        "type": "special_hours",
        "params": {
            "days": [
                {"date": "2026-06-01", "intervals": [{"start": "09:00", "end": "10:00"}]},
                {"date": "2026-06-02", "intervals": [{"start": "09:00", "end": "10:00"}]},
            ]
        },
    }
    closed = {"type": "closed_dates", "params": {"dates": ["2026-06-02"], "weekdays": ["mon", "tue"]}}
    slots = generate_slots([weekly(every_day(("09:00", "12:00"))), special, closed], SHANGHAI, date(2026, 6, 1), date(2026, 6, 2))
    assert [slot.local_date for slot in slots] == [date(2026, 6, 1)]


def test_invalid_rules_raise_invalid_input():
    with pytest.raises(InvalidInput):
        generate_slots([{"type": "weekly_hours", "params": {}}], SHANGHAI, date(2026, 6, 1), date(2026, 6, 1))


def test_an_empty_range_has_no_slots():
    assert generate_slots([weekly(every_day(("09:00", "12:00")))], SHANGHAI, date(2026, 6, 2), date(2026, 6, 1)) == []


# --- DST ---


def test_a_nine_oclock_class_stays_at_nine_local_across_both_berlin_changes():
    slots = generate_slots([weekly(every_day(("09:00", "10:00")))], BERLIN, date(2026, 3, 28), date(2026, 3, 30))
    assert [slot.starts_at.astimezone(BERLIN).time() for slot in slots] == [time(9)] * 3
    assert [slot.starts_at.hour for slot in slots] == [8, 7, 7]  # CET, then CEST
    slots = generate_slots([weekly(every_day(("09:00", "10:00")))], BERLIN, date(2026, 10, 24), date(2026, 10, 26))
    assert [slot.starts_at.hour for slot in slots] == [7, 8, 8]


def test_slots_in_the_spring_forward_gap_are_skipped():
    # New York: 2026-03-08 02:00 EST → 03:00 EDT. 02:00–03:00 does not exist.
    rules = [weekly(every_day(("00:00", "05:00")), slot_minutes=30)]
    slots = generate_slots(rules, NEW_YORK, date(2026, 3, 8), date(2026, 3, 8))
    assert local_starts(slots, NEW_YORK) == [
        "03-08 00:00",
        "03-08 00:30",
        "03-08 01:00",
        "03-08 01:30",
        "03-08 03:00",
        "03-08 03:30",
        "03-08 04:00",
        "03-08 04:30",
    ]


def test_a_slot_ending_in_the_gap_ends_when_the_clocks_jump():
    rules = [windows(("01:30", "02:30"), ("03:00", "04:00"))]
    first, second = generate_slots(rules, NEW_YORK, date(2026, 3, 8), date(2026, 3, 8))
    assert first.ends_at == datetime(2026, 3, 8, 7, 0, tzinfo=UTC) == second.starts_at
    assert first.ends_at.astimezone(NEW_YORK).time() == time(3, 0)


def test_a_slot_spanning_the_gap_keeps_its_wall_clock_bounds():
    rules = [windows(("01:30", "03:30"))]
    [slot] = generate_slots(rules, BERLIN, date(2026, 3, 29), date(2026, 3, 29))
    assert (slot.starts_at.astimezone(BERLIN).time(), slot.ends_at.astimezone(BERLIN).time()) == (time(1, 30), time(3, 30))
    assert slot.ends_at - slot.starts_at == (datetime(2026, 1, 1, 1) - datetime(2026, 1, 1, 0))


def test_ambiguous_fall_back_times_take_their_first_occurrence():
    # Berlin: 2026-10-25 03:00 CEST → 02:00 CET; 02:00–03:00 happens twice.
    rules = [weekly(every_day(("01:00", "04:00")))]
    slots = generate_slots(rules, BERLIN, date(2026, 10, 25), date(2026, 10, 25))
    assert [slot.starts_at.strftime("%H:%M") for slot in slots] == ["23:00", "00:00", "02:00"]  # UTC; 02:00 local is 00:00Z (CEST)
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:], strict=False))


def test_to_utc_reports_times_that_do_not_exist():
    assert to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) is None
    assert to_utc(datetime(2026, 10, 25, 2, 30), BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
