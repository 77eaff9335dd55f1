"""Availability listing: the generated slots of a range of days with what their inventory rows say is taken.

All inventory rows of the range come from one query, however many slots there
are; a slot without a row yet has nothing taken. Where a row exists its
capacity counts, since it is the one ``take_capacity`` checks against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.scheduling import Offering
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.rules import SlotRuleRegistry
from yuyue.scheduling.slots import bookable, compile_rules, generate_slots

__all__ = ["SlotAvailability", "list_availability"]


@dataclass(frozen=True)
class SlotAvailability:
    """One channel of one slot, as a customer or an API client sees it."""

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

    ``bookable`` is false with ``reason`` ``slot_full`` when nothing remains, or
    the booking-window reason (``booking_not_open``, ``booking_closed``).
    Needs the booking type's tenant in context (``yuyue.db.tenant_scope``).
    """
    rules = compile_rules(booking_type.availability_rules, registry)
    slots = generate_slots(rules, zone, first_day, last_day)
    if not slots:
        return []
    rows = session.execute(
        select(SlotInventory.starts_at, SlotInventory.channel, SlotInventory.capacity, SlotInventory.taken).where(
            SlotInventory.booking_type_id == booking_type.id,
            SlotInventory.starts_at >= slots[0].starts_at,
            SlotInventory.starts_at <= slots[-1].starts_at,
        )
    ).all()
    counters = {(row.starts_at, row.channel): (row.capacity, row.taken) for row in rows}
    listed = []
    for slot in slots:
        is_open, reason = bookable(rules, slot, now)
        for channel in sorted(slot.capacities):
            capacity, taken = counters.get((slot.starts_at, channel), (slot.capacities[channel], 0))
            remaining = max(capacity - taken, 0)
            if is_open and remaining == 0:
                channel_open, channel_reason = False, "slot_full"
            else:
                channel_open, channel_reason = is_open, reason
            listed.append(
                SlotAvailability(slot.starts_at, slot.ends_at, slot.local_date, channel, capacity, taken, remaining, channel_open, channel_reason, slot.label)
            )
    return listed
