"""The built-in slot-rule types; their params schemas ship in ``yuyue-schemas`` (``slot-rules/*.json``).

How they combine on one local day:

- ``weekly_hours`` and ``fixed_windows`` give the day's regular slots. A public
  holiday or an adjusted working day (调休: a weekend day that is worked) keeps
  its own weekday's pattern unless ``on_public_holidays`` / ``on_adjusted_workdays``
  say otherwise: ``closed``, or a weekday key whose pattern it follows
  (``"on_adjusted_workdays": "fri"`` runs Friday's classes on a worked Sunday).
  The default changes nothing a merchant did not ask for, and keeps slots
  already sold stable when a holiday calendar update arrives.
- ``special_hours`` replaces the regular slots of its dates, and opens a date
  even if its weekday is closed.
- ``closed_dates`` then removes listed dates (always) and closed weekdays
  (unless a special day, or a public holiday with ``open_on_public_holidays``).
- ``holiday_throttle`` scales capacities on public holidays (or every rest
  day), rounding down per channel, or with ``closed_otherwise`` keeps only
  those days (special days excepted).
- ``booking_window`` decides when a slot can be booked: from ``opens_days_ahead``
  days before its local date at ``release_time`` local, until
  ``closes_minutes_before`` its start.
- ``daily_cap`` caps the places of a local day, over every channel and/or per
  channel, on top of the slots' capacities; ``holiday_throttle`` scales the
  caps on its days as it scales the slots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

import yuyue_schemas
from yuyue.errors import FieldProblem, Message
from yuyue.scheduling import holidays
from yuyue.scheduling.rules import DAY_SCOPE, DayContext, LocalSlot, Rule, Slot, SlotRuleType, split_capacity

__all__ = ["BUILTIN_RULE_TYPES", "local_moment"]


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def local_moment(day: date, at: time, zone) -> datetime:
    """The aware moment a local wall-clock time falls on; ambiguous times take the first (fold=0),
    a time skipped by a DST change is read with the offset before the change (so it lands after the gap)."""
    return datetime.combine(day, at, tzinfo=zone)


# --------------------------------------------------------------------------
# Checks shared by several types
# --------------------------------------------------------------------------


def _check_spans(spans: Sequence[dict[str, Any]], pointer: str, what: Message) -> list[FieldProblem]:
    """End after start, and no two spans overlap (two slots of one channel would then overlap)."""
    problems = []
    for index, span in enumerate(spans):
        if _minutes(span["end"]) <= _minutes(span["start"]):
            problems.append(
                FieldProblem(
                    f"{pointer}/{index}/end", _l("the %(what)s must end after it starts (%(start)s)", what=what, start=span["start"]), "end_before_start"
                )
            )
    ordered = sorted(range(len(spans)), key=lambda i: _minutes(spans[i]["start"]))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if _minutes(spans[after]["start"]) < _minutes(spans[before]["end"]):
            message = _l("overlaps %(what)s %(index)s (%(start)s–%(end)s)", what=what, index=before, start=spans[before]["start"], end=spans[before]["end"])
            problems.append(FieldProblem(f"{pointer}/{after}/start", message, "overlapping"))
    return problems


def _check_channels(capacity: int, by_channel: dict[str, int] | None, pointer: str) -> list[FieldProblem]:
    if by_channel and sum(by_channel.values()) > capacity:
        message = _l("the channels' shares add up to %(total)s, more than the capacity %(capacity)s", total=sum(by_channel.values()), capacity=capacity)
        return [FieldProblem(pointer, message, "channels_exceed_capacity")]
    return []


def _check_cutting(intervals: Sequence[dict[str, Any]], slot_minutes: int, pointer: str) -> list[FieldProblem]:
    problems = []
    for index, interval in enumerate(intervals):
        length = _minutes(interval["end"]) - _minutes(interval["start"])
        if 0 < length < slot_minutes:
            problems.append(
                FieldProblem(f"{pointer}/{index}", _l("shorter than one slot (%(slot_minutes)s minutes)", slot_minutes=slot_minutes), "interval_too_short")
            )
    return problems


# --------------------------------------------------------------------------
# Building slots
# --------------------------------------------------------------------------


def _cut(day: date, intervals: Sequence[dict[str, Any]], slot_minutes: int, step_minutes: int, capacities: dict[str, int]) -> list[LocalSlot]:
    slots = []
    length, step = timedelta(minutes=slot_minutes), timedelta(minutes=step_minutes)
    for interval in intervals:
        start, end = datetime.combine(day, _time(interval["start"])), datetime.combine(day, _time(interval["end"]))
        while start + length <= end:
            slots.append(LocalSlot(start, start + length, dict(capacities)))
            start += step
    return slots


def _windows(day: date, windows: Sequence[dict[str, Any]], default_split: dict[str, int] | None) -> list[LocalSlot]:
    return [
        LocalSlot(
            datetime.combine(day, _time(window["start"])),
            datetime.combine(day, _time(window["end"])),
            split_capacity(window["capacity"], window.get("capacity_by_channel", default_split)),
            window.get("label"),
        )
        for window in windows
    ]


def _pattern_weekday(params: dict[str, Any], day: DayContext) -> str | None:
    """The weekday whose pattern applies to the day, or ``None`` if it is closed."""
    on_holidays = params.get("on_public_holidays", "own_weekday")
    on_workdays = params.get("on_adjusted_workdays", "own_weekday")
    treatment = "own_weekday"
    calendar = params.get("calendar", "CN")
    # Holiday look-ups only when the merchant asked for a special treatment.
    if on_holidays != "own_weekday" and holidays.is_public_holiday(day.day, calendar):
        treatment = on_holidays
    elif on_workdays != "own_weekday" and holidays.is_adjusted_workday(day.day, calendar):
        treatment = on_workdays
    if treatment == "closed":
        return None
    return day.weekday if treatment == "own_weekday" else treatment


# --------------------------------------------------------------------------
# The types
# --------------------------------------------------------------------------


class WeeklyHours(SlotRuleType):
    key = "weekly_hours"
    params_schema = yuyue_schemas.schema("slot-rules/weekly_hours")
    single = True

    def check(self, params: dict[str, Any], rules: Sequence[Rule]) -> list[FieldProblem]:
        problems = _check_channels(params["capacity"], params.get("capacity_by_channel"), "/capacity_by_channel")
        for weekday, intervals in params["weekdays"].items():
            problems += _check_spans(intervals, f"/weekdays/{weekday}", _l("interval"))
            problems += _check_cutting(intervals, params["slot_minutes"], f"/weekdays/{weekday}")
        return problems

    def pattern_slots(self, params: dict[str, Any], day: DayContext) -> list[LocalSlot]:
        weekday = _pattern_weekday(params, day)
        if weekday is None:
            return []
        capacities = split_capacity(params["capacity"], params.get("capacity_by_channel"))
        step = params.get("step_minutes", params["slot_minutes"])
        return _cut(day.day, params["weekdays"].get(weekday, []), params["slot_minutes"], step, capacities)


class FixedWindows(SlotRuleType):
    key = "fixed_windows"
    params_schema = yuyue_schemas.schema("slot-rules/fixed_windows")
    single = True

    def check(self, params: dict[str, Any], rules: Sequence[Rule]) -> list[FieldProblem]:
        problems = _check_spans(params["windows"], "/windows", _l("window"))
        for index, window in enumerate(params["windows"]):
            split, at = window.get("capacity_by_channel"), f"/windows/{index}/capacity_by_channel"
            if split is None:
                split, at = params.get("capacity_by_channel"), "/capacity_by_channel"
            problems += _check_channels(window["capacity"], split, at)
        return _unique(problems)

    def pattern_slots(self, params: dict[str, Any], day: DayContext) -> list[LocalSlot]:
        weekday = _pattern_weekday(params, day)
        if weekday is None or weekday not in params.get("weekdays", [weekday]):
            return []
        return _windows(day.day, params["windows"], params.get("capacity_by_channel"))


class SpecialHours(SlotRuleType):
    key = "special_hours"
    params_schema = yuyue_schemas.schema("slot-rules/special_hours")

    def check(self, params: dict[str, Any], rules: Sequence[Rule]) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        weekly = next((rule.params for rule in rules if rule.key == "weekly_hours"), {})
        seen: dict[str, int] = {}
        for index, entry in enumerate(params["days"]):
            at = f"/days/{index}"
            if entry["date"] in seen:
                problems.append(
                    FieldProblem(
                        f"{at}/date",
                        _l("%(date)s is already given special hours at /days/%(index)s", date=entry["date"], index=seen[entry["date"]]),
                        "duplicate_date",
                    )
                )
            seen.setdefault(entry["date"], index)
            if "windows" in entry:
                problems += _check_spans(entry["windows"], f"{at}/windows", _l("window"))
                for number, window in enumerate(entry["windows"]):
                    split = window.get("capacity_by_channel", entry.get("capacity_by_channel"))
                    problems += _check_channels(window["capacity"], split, f"{at}/windows/{number}")
                continue
            problems += _check_spans(entry["intervals"], f"{at}/intervals", _l("interval"))
            if not entry["intervals"]:
                continue  # closed that day
            for name in ("slot_minutes", "capacity"):
                if name not in entry and name not in weekly:
                    message = _l("give %(name)s here, or add a weekly_hours rule to take it from", name=name)
                    problems.append(FieldProblem(at, message, f"missing_{name}"))
            slot_minutes, capacity = entry.get("slot_minutes", weekly.get("slot_minutes")), entry.get("capacity", weekly.get("capacity"))
            if slot_minutes:
                problems += _check_cutting(entry["intervals"], slot_minutes, f"{at}/intervals")
            if capacity:
                problems += _check_channels(capacity, entry.get("capacity_by_channel", weekly.get("capacity_by_channel")), at)
        return problems

    def override_slots(self, params: dict[str, Any], day: DayContext) -> list[LocalSlot] | None:
        wanted = day.day.isoformat()
        entry = next((entry for entry in params["days"] if entry["date"] == wanted), None)
        if entry is None:
            return None
        if "windows" in entry:
            return _windows(day.day, entry["windows"], entry.get("capacity_by_channel"))
        if not entry["intervals"]:
            return []
        weekly_rule = day.first("weekly_hours")
        weekly = weekly_rule.params if weekly_rule else {}
        slot_minutes = entry.get("slot_minutes", weekly.get("slot_minutes"))
        step = entry.get("step_minutes", slot_minutes if "slot_minutes" in entry else weekly.get("step_minutes", slot_minutes))
        capacity = entry.get("capacity", weekly.get("capacity"))
        split = entry.get("capacity_by_channel", weekly.get("capacity_by_channel"))
        return _cut(day.day, entry["intervals"], slot_minutes, step, split_capacity(capacity, split))


class ClosedDates(SlotRuleType):
    key = "closed_dates"
    params_schema = yuyue_schemas.schema("slot-rules/closed_dates")

    def adjust(self, params: dict[str, Any], day: DayContext, slots: list[LocalSlot]) -> list[LocalSlot]:
        if not slots:
            return slots
        if day.day.isoformat() in params.get("dates", ()):
            return []
        if day.overridden or day.weekday not in params.get("weekdays", ()):
            return slots
        if params.get("open_on_public_holidays") and holidays.is_public_holiday(day.day, params.get("calendar", "CN")):
            return slots
        return []


class HolidayThrottle(SlotRuleType):
    key = "holiday_throttle"
    params_schema = yuyue_schemas.schema("slot-rules/holiday_throttle")

    def adjust(self, params: dict[str, Any], day: DayContext, slots: list[LocalSlot]) -> list[LocalSlot]:
        if not slots:
            return slots
        if not self._applies(params, day.day):
            return [] if params.get("closed_otherwise") and not day.overridden else slots
        factor = params.get("capacity_factor")
        if factor is None:
            return slots
        return [LocalSlot(slot.start, slot.end, _scaled(factor, slot.capacities), slot.label) for slot in slots]

    def adjust_day_caps(self, params: dict[str, Any], day: DayContext, caps: dict[str, int]) -> dict[str, int]:
        factor = params.get("capacity_factor")
        if not caps or factor is None or not self._applies(params, day.day):
            return caps
        return _scaled(factor, caps)

    @staticmethod
    def _applies(params: dict[str, Any], day: date) -> bool:
        calendar = params["calendar"]
        if holidays.is_public_holiday(day, calendar):
            return True
        return params.get("applies_to") == "rest_days" and holidays.is_rest_day(day, calendar)


def _scaled(factor: float, places: dict[str, int]) -> dict[str, int]:
    """Places × factor, rounded down per entry; Decimal, so 0.7 × 10 is 7 and not 6.999…."""
    scale = Decimal(str(factor))
    return {key: math.floor(scale * n) for key, n in places.items()}


class DailyCap(SlotRuleType):
    key = "daily_cap"
    params_schema = yuyue_schemas.schema("slot-rules/daily_cap")
    single = True

    def day_caps(self, params: dict[str, Any], day: DayContext) -> dict[str, int]:
        caps = dict(params.get("by_channel", {}))
        if "capacity" in params:
            caps[DAY_SCOPE] = params["capacity"]
        return caps


class BookingWindow(SlotRuleType):
    key = "booking_window"
    params_schema = yuyue_schemas.schema("slot-rules/booking_window")
    single = True

    def refusal(self, params: dict[str, Any], slot: Slot, now: datetime) -> str | None:
        if now < self.opens_at(params, slot):
            return "booking_not_open"
        if now >= slot.starts_at - timedelta(minutes=params.get("closes_minutes_before", 0)):
            return "booking_closed"
        return None

    def opens_at(self, params: dict[str, Any], slot: Slot) -> datetime:
        release_day = slot.local_date - timedelta(days=params["opens_days_ahead"])
        return local_moment(release_day, _time(params.get("release_time", "00:00")), slot.zone)


def _unique(problems: list[FieldProblem]) -> list[FieldProblem]:
    return list(dict.fromkeys(problems))


BUILTIN_RULE_TYPES: tuple[SlotRuleType, ...] = (WeeklyHours(), FixedWindows(), SpecialHours(), ClosedDates(), HolidayThrottle(), BookingWindow(), DailyCap())
