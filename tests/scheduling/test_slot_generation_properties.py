"""Properties of slot generation, for any valid weekly hours, any range of days, with and without DST."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from yuyue.scheduling import holidays
from yuyue.scheduling.slots import generate_slots, slot_at

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")])
# 2025-2027 hold every kind of day: DST changes in Berlin and New York, Chinese holidays and worked weekends.
FIRST_DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 1))
# Nights included, so spring-forward gaps (02:00-03:00) and fall-back repeats fall inside opening hours.
DST_DAYS = st.sampled_from([date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1), date(2025, 3, 30), date(2025, 11, 2)])


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_intervals(draw):
    """Sorted, non-overlapping intervals of one day, on 5-minute boundaries."""
    bounds = sorted(draw(st.sets(st.integers(0, 287), min_size=0, max_size=6)))
    bounds = bounds[: len(bounds) // 2 * 2]
    return [{"start": hhmm(a * 5), "end": hhmm(b * 5)} for a, b in zip(bounds[::2], bounds[1::2], strict=True)]


@st.composite
def weekly_rules(draw, step_at_least_slot=True):
    slot_minutes = draw(st.sampled_from([5, 15, 30, 45, 60, 90, 120]))
    step = draw(st.sampled_from([slot_minutes, slot_minutes + 15, slot_minutes * 2])) if step_at_least_slot else draw(st.sampled_from([5, 10, 15]))
    weekdays = {}
    for day in WEEKDAYS:
        intervals = [i for i in draw(day_intervals()) if _minutes(i["end"]) - _minutes(i["start"]) >= slot_minutes]
        if intervals or draw(st.booleans()):
            weekdays[day] = intervals
    if not weekdays:
        weekdays["mon"] = []
    capacity = draw(st.integers(1, 10000))
    params = {"weekdays": weekdays, "slot_minutes": slot_minutes, "step_minutes": step, "capacity": capacity}
    if draw(st.booleans()):
        group = draw(st.integers(0, capacity))
        params["capacity_by_channel"] = {"group": group}
    return {"type": "weekly_hours", "params": params}


def _minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@settings(max_examples=100, deadline=None)
@given(rule=weekly_rules(), zone=ZONES, first=FIRST_DAYS | DST_DAYS, days=st.integers(0, 20))
def test_slots_of_one_channel_never_overlap(rule, zone, first, days):
    slots = generate_slots([rule], zone, first, first + timedelta(days=days))
    by_channel = defaultdict(list)
    for slot in slots:
        assert slot.starts_at < slot.ends_at
        for channel in slot.capacities:
            by_channel[channel].append(slot)
    for channel_slots in by_channel.values():
        channel_slots.sort(key=lambda s: s.starts_at)
        for before, after in zip(channel_slots, channel_slots[1:], strict=False):
            assert before.ends_at <= after.starts_at


@settings(max_examples=100, deadline=None)
@given(rule=weekly_rules(step_at_least_slot=False), zone=ZONES, first=FIRST_DAYS | DST_DAYS, days=st.integers(0, 10))
def test_slot_starts_are_unique_even_when_slots_overlap_by_design(rule, zone, first, days):
    slots = generate_slots([rule], zone, first, first + timedelta(days=days))
    assert len({slot.starts_at for slot in slots}) == len(slots)


@settings(max_examples=100, deadline=None)
@given(rule=weekly_rules(), zone=ZONES, first=FIRST_DAYS | DST_DAYS, days=st.integers(0, 20))
def test_slots_start_and_end_on_the_clock_within_opening_hours(rule, zone, first, days):
    params = rule["params"]
    length = timedelta(minutes=params["slot_minutes"])
    slots = generate_slots([rule], zone, first, first + timedelta(days=days))
    for slot in slots:
        local_start = _wall(slot.starts_at, zone)
        assert local_start.date() == slot.local_date
        intervals = params["weekdays"].get(WEEKDAYS[slot.local_date.weekday()], [])
        minute = local_start.hour * 60 + local_start.minute
        # The start is one of the interval's steps, exactly on the local clock (DST or not) …
        assert any(
            _minutes(i["start"]) <= minute <= _minutes(i["end"]) - params["slot_minutes"] and (minute - _minutes(i["start"])) % params["step_minutes"] == 0
            for i in intervals
        )
        # … and so is the end, unless that time was skipped by a DST change: then the slot ends when clocks jump, never longer.
        planned_end = local_start + length
        if _exists(planned_end, zone):
            assert _wall(slot.ends_at, zone) == planned_end
        else:
            assert slot.ends_at - slot.starts_at <= length
        if zone.key == "Asia/Shanghai":
            assert slot.ends_at - slot.starts_at == length


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    return _wall(wall.replace(tzinfo=zone).astimezone(UTC), zone) == wall


@settings(max_examples=60, deadline=None)
@given(rule=weekly_rules(), zone=ZONES, first=FIRST_DAYS | DST_DAYS, days=st.integers(0, 20))
def test_every_planned_slot_on_an_existing_clock_time_is_generated(rule, zone, first, days):
    params = rule["params"]
    last = first + timedelta(days=days)
    starts = {_wall(slot.starts_at, zone) for slot in generate_slots([rule], zone, first, last)}
    day = first
    while day <= last:
        for interval in params["weekdays"].get(WEEKDAYS[day.weekday()], []):
            minute = _minutes(interval["start"])
            while minute + params["slot_minutes"] <= _minutes(interval["end"]):
                wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
                assert (wall in starts) == _exists(wall, zone)
                minute += params["step_minutes"]
        day += timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(
    rule=weekly_rules(),
    zone=ZONES,
    first=FIRST_DAYS,
    days=st.integers(0, 40),
    closed_weekdays=st.sets(st.sampled_from(WEEKDAYS)),
    closed_offsets=st.sets(st.integers(0, 40), max_size=5),
)
def test_closed_days_have_no_slots(rule, zone, first, days, closed_weekdays, closed_offsets):
    closed_dates = sorted((first + timedelta(days=n)).isoformat() for n in closed_offsets)
    closed = {"type": "closed_dates", "params": {"dates": closed_dates, "weekdays": sorted(closed_weekdays)}}
    for slot in generate_slots([rule, closed], zone, first, first + timedelta(days=days)):
        assert slot.local_date.isoformat() not in closed_dates
        assert WEEKDAYS[slot.local_date.weekday()] not in closed_weekdays


@settings(max_examples=60, deadline=None)
@given(rule=weekly_rules(), first=FIRST_DAYS, days=st.integers(0, 60))
def test_holidays_closed_by_the_weekly_hours_have_no_slots(rule, first, days):
    rule["params"]["on_public_holidays"] = "closed"
    for slot in generate_slots([rule], ZoneInfo("Asia/Shanghai"), first, first + timedelta(days=days)):
        assert not holidays.is_public_holiday(slot.local_date)


@settings(max_examples=60, deadline=None)
@given(rule=weekly_rules(), first=FIRST_DAYS, days=st.integers(0, 60), factor=st.sampled_from([0.25, 0.5, 0.75, 1.2]))
def test_holiday_throttle_changes_capacity_on_holidays_only(rule, first, days, factor):
    throttle = {"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": factor}}
    zone, last = ZoneInfo("Asia/Shanghai"), first + timedelta(days=days)
    plain = generate_slots([rule], zone, first, last)
    throttled = generate_slots([rule, throttle], zone, first, last)
    assert [s.starts_at for s in plain] == [s.starts_at for s in throttled]
    for before, after in zip(plain, throttled, strict=True):
        if holidays.is_public_holiday(before.local_date):
            assert after.capacities == {channel: int(n * Fraction(str(factor))) for channel, n in before.capacities.items()}
        else:
            assert after.capacities == before.capacities


@settings(max_examples=60, deadline=None)
@given(rule=weekly_rules(), first=FIRST_DAYS, days=st.integers(0, 60))
def test_open_only_on_holidays_means_no_slot_on_another_day(rule, first, days):
    only_holidays = {"type": "holiday_throttle", "params": {"calendar": "CN", "closed_otherwise": True}}
    for slot in generate_slots([rule, only_holidays], ZoneInfo("Asia/Shanghai"), first, first + timedelta(days=days)):
        assert holidays.is_public_holiday(slot.local_date)


@settings(max_examples=100, deadline=None)
@given(rule=weekly_rules(step_at_least_slot=False), zone=ZONES, first=FIRST_DAYS | DST_DAYS, offsets=st.lists(st.integers(0, 48 * 60), max_size=20))
def test_the_slot_at_a_moment_is_the_generated_slot_starting_then_or_none(rule, zone, first, offsets):
    slots = generate_slots([rule], zone, first, first)
    for slot in slots:
        assert slot_at([rule], zone, slot.starts_at) == slot
    by_start = {slot.starts_at: slot for slot in generate_slots([rule], zone, first - timedelta(days=1), first + timedelta(days=2))}
    midnight = datetime.combine(first, datetime.min.time(), zone).astimezone(UTC)
    for minutes in offsets:  # any moment of the two days: a slot exactly when one starts then, else None
        moment = midnight + timedelta(minutes=minutes)
        assert slot_at([rule], zone, moment) == by_start.get(moment)
