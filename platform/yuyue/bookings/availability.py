"""Availability as a booking would find it: the scheduling listing, with the slots whose resources cannot be had marked ``resource_busy``.

A slot is judged as :func:`yuyue.bookings.placement.allocate_resources` would
judge a booking of it: its per-booking requirements, and its per-slot ones
unless the slot holds them already, must find free resources for its whole
interval. The candidates, what holds them over the whole range and which
slots hold theirs are read once (three queries, however many slots), then
each slot is judged in memory by the same :func:`pick_resources`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.bookings.models import ResourceAllocation
from yuyue.bookings.placement import pick_resources, resource_candidates
from yuyue.catalog.models import BookingType
from yuyue.scheduling.availability import SlotAvailability, list_availability
from yuyue.scheduling.inventory import QUANTUM, quanta
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.rules import SlotRuleRegistry

__all__ = ["slot_availability"]


def slot_availability(
    session: Session,
    booking_type: BookingType,
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    registry: SlotRuleRegistry | None = None,
) -> list[SlotAvailability]:
    """:func:`~yuyue.scheduling.availability.list_availability`, with bookable slots whose resources are taken listed ``resource_busy``."""
    listed = list_availability(session, booking_type, zone, first_day, last_day, now, registry=registry)
    requirements = booking_type.resource_requirements or []
    open_slots = sorted({(s.starts_at, s.ends_at) for s in listed if s.bookable})
    if not requirements or not open_slots:
        return listed
    busy_slots = _busy_slots(session, booking_type, requirements, open_slots, zone)
    return [replace(s, bookable=False, reason="resource_busy") if s.bookable and s.starts_at in busy_slots else s for s in listed]


def _busy_slots(
    session: Session, booking_type: BookingType, requirements: list[dict], open_slots: list[tuple[datetime, datetime]], zone: ZoneInfo
) -> set[datetime]:
    per_slot = [r for r in requirements if r.get("per", "slot") == "slot"]
    per_booking = [r for r in requirements if r.get("per", "slot") == "booking"]
    candidates = resource_candidates(session, requirements)
    first, last = quanta(*open_slots[0])[0], max(end for _, end in open_slots)
    busy: dict[datetime, set[int]] = defaultdict(set)
    for resource_id, quantum in session.execute(
        select(ResourceAllocation.resource_id, ResourceAllocation.quantum_start).where(
            ResourceAllocation.resource_id.in_([c.id for c in candidates]), ResourceAllocation.quantum_start >= first, ResourceAllocation.quantum_start < last
        )
    ):
        busy[quantum].add(resource_id)
    held: set[datetime] = set()
    if per_slot:
        held = set(
            session.scalars(
                select(SlotInventory.starts_at)
                .join(ResourceAllocation, ResourceAllocation.inventory_id == SlotInventory.id)
                .where(
                    SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at >= open_slots[0][0], SlotInventory.starts_at <= open_slots[-1][0]
                )
                .distinct()
            )
        )
    busy_slots = set()
    for starts_at, ends_at in open_slots:
        wanted = per_booking + ([] if starts_at in held else per_slot)
        if not wanted:
            continue
        slices = quanta(starts_at, ends_at)
        if pick_resources(wanted, candidates, set().union(*(busy[q] for q in slices)), slices[0], slices[-1] + QUANTUM, zone) is None:
            busy_slots.add(starts_at)
    return busy_slots
