"""Availability listing: the generated slots of a range of days, with what their inventory rows and day caps say is left.

All inventory rows of the range come from one query and all day rows from
another, however many slots there are; a slot without a row yet has nothing
taken, and a capped day without a row has what its slots took. Where a row
exists its capacity counts, since it is the one the booking's conditional
UPDATE checks against. Resources are judged above this area
(``yuyue.bookings.availability``), which marks slots ``resource_busy``.

``bookable`` says whether a booking of one place by a customer no personal
policy limits would be accepted; when it is not, ``reason`` is one of
:data:`REASONS`, each the counterpart of the code a booking is refused with.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.scheduling import Offering
from yuyue.scheduling.inventory import day_bounds
from yuyue.scheduling.models import DayInventory, SlotInventory
from yuyue.scheduling.rules import DAY_SCOPE, SlotRuleRegistry
from yuyue.scheduling.slots import bookable, compile_rules, generate_slots, opens_at

__all__ = ["REASONS", "SlotAvailability", "list_availability"]

# Why a slot is not bookable → the code a booking of it is refused with.
REASONS = {
    "not_released": "booking_not_open",
    "closed": "booking_closed or slot_closed",
    "sold_out": "slot_full",
    "daily_cap": "daily_cap_reached",
    "resource_busy": "resource_conflict",
}
# A rule's refusal code → the reason availability gives; any other code a rule gives is ``closed``.
_RULE_REASONS = {"booking_not_open": "not_released"}


@dataclass(frozen=True)
class SlotAvailability:
    """One channel of one slot, as a customer or an API client sees it.

    ``remaining`` is what a booking could take: the slot's places left, within
    what its day's caps have left. ``opens_at`` is when a slot not yet released will be.
    """

    starts_at: datetime
    ends_at: datetime
    local_date: date
    channel: str
    capacity: int
    taken: int
    remaining: int
    bookable: bool
    reason: str | None
    label: Any = None
    opens_at: datetime | None = None


def list_availability(
    session: Session,
    booking_type: Offering,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    registry: SlotRuleRegistry | None = None,
) -> list[SlotAvailability]:
    """Every slot and channel of ``booking_type`` on the local days ``first_day`` … ``last_day``, ordered by start then channel.

    Not bookable, in the order a booking is judged: ``not_released`` or
    ``closed`` by the booking window (or the slot has started), ``closed`` when
    the slot was called off, ``sold_out`` when nothing remains in the slot,
    ``daily_cap`` when its day's cap is reached. Two queries (one more with day caps).
    Needs the booking type's tenant in context (``yuyue.db.tenant_scope``).
    """
    rules = compile_rules(booking_type.availability_rules, registry)
    slots = generate_slots(rules, zone, first_day, last_day)
    if not slots:
        return []
    start, end = day_bounds(first_day, zone)[0], day_bounds(last_day, zone)[1]
    rows = session.execute(
        select(SlotInventory.starts_at, SlotInventory.channel, SlotInventory.capacity, SlotInventory.taken, SlotInventory.closed_reason).where(
            SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at >= start, SlotInventory.starts_at < end
        )
    ).all()
    counters = {(row.starts_at, row.channel): row for row in rows}
    day_counters: dict[tuple[date, str], tuple[int, int]] = {}
    if any(slot.day_caps for slot in slots):
        # A day without a row has taken what its slots took (the row would start there).
        slot_sums: dict[tuple[date, str], int] = defaultdict(int)
        for row in rows:
            day = row.starts_at.astimezone(zone).date()
            slot_sums[day, DAY_SCOPE] += row.taken
            slot_sums[day, row.channel] += row.taken
        day_rows = session.execute(
            select(DayInventory.local_date, DayInventory.scope, DayInventory.capacity, DayInventory.taken).where(
                DayInventory.booking_type_id == booking_type.id, DayInventory.local_date >= first_day, DayInventory.local_date <= last_day
            )
        ).all()
        day_counters = {(row.local_date, row.scope): (row.capacity, row.taken) for row in day_rows}
        for slot in slots:
            for scope, cap in slot.day_caps.items():
                day_counters.setdefault((slot.local_date, scope), (cap, slot_sums[slot.local_date, scope]))
    listed = []
    for slot in slots:
        is_open, rule_reason = bookable(rules, slot, now)
        reason = None if is_open else _RULE_REASONS.get(rule_reason, "closed")
        released_at = opens_at(rules, slot) if reason == "not_released" else None
        for channel in sorted(slot.capacities):
            row = counters.get((slot.starts_at, channel))
            capacity, taken = (row.capacity, row.taken) if row is not None else (slot.capacities[channel], 0)
            slot_left = capacity - taken
            day_left = min((cap - used for cap, used in (day_counters[slot.local_date, scope] for scope in slot.day_scopes(channel))), default=slot_left)
            closed = row is not None and row.closed_reason is not None
            remaining = 0 if closed else max(min(slot_left, day_left), 0)
            channel_reason = reason
            if channel_reason is None:
                channel_reason = "closed" if closed else "sold_out" if slot_left < 1 else "daily_cap" if day_left < 1 else None
            listed.append(
                SlotAvailability(
                    slot.starts_at,
                    slot.ends_at,
                    slot.local_date,
                    channel,
                    capacity,
                    taken,
                    remaining,
                    channel_reason is None,
                    channel_reason,
                    slot.label,
                    released_at,
                )
            )
    return listed
