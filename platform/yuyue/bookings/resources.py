"""Scheduled slots hold their per-slot resources from the moment they are scheduled, not from their first booking.

A group class that held its coach only once booked would let a private lesson
take the coach first, and then refuse every booking of the class while its
availability said bookable. So when a booking type with ``per: "slot"``
requirements is created or its rules or requirements change (the
``booking_type_scheduled`` hook), and every day for the days coming into reach
(the worker), each future slot up to the horizon — the booking window's
``opens_days_ahead``, else :data:`DEFAULT_HORIZON_DAYS` — holds its resources
by the inventory row of its first channel. A slot whose resources cannot be
held is listed ``resource_busy``. Held resources stay when the slot's bookings
are cancelled: the slot is still scheduled.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuyue.bookings.models import ResourceAllocation
from yuyue.bookings.placement import pick_resources, resource_candidates
from yuyue.catalog.models import BookingType, BookingTypeStatus
from yuyue.scheduling.inventory import QUANTUM, inventory_row, quanta
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.slots import generate_slots
from yuyue.tenancy.models import Tenant

__all__ = ["DEFAULT_HORIZON_DAYS", "MAX_HORIZON_DAYS", "hold_scheduled_resources", "horizon_days", "per_slot_requirements", "reschedule_resources"]

# How far ahead slots hold their resources when no booking window says how far ahead they are sold.
DEFAULT_HORIZON_DAYS = 30
# At most this far, however far ahead a booking window sells: a merchant's save (and the nightly job) lays out
# and writes these slots at once, and a window may open years ahead. A slot beyond it holds its resources at its
# first booking, and its availability is judged from the resources free then, as before scheduling held any.
MAX_HORIZON_DAYS = 92


def per_slot_requirements(booking_type: BookingType) -> list[dict[str, Any]]:
    return [r for r in booking_type.resource_requirements or [] if r.get("per", "slot") == "slot"]


def horizon_days(booking_type: BookingType) -> int:
    """How many days ahead slots hold their resources: as far as the booking window sells (else :data:`DEFAULT_HORIZON_DAYS`), at most :data:`MAX_HORIZON_DAYS`."""
    window = next((rule for rule in booking_type.availability_rules or [] if rule.get("type") == "booking_window"), None)
    return min(int(window["params"]["opens_days_ahead"]) if window else DEFAULT_HORIZON_DAYS, MAX_HORIZON_DAYS)


def hold_scheduled_resources(session: Session, booking_type: BookingType, now: datetime) -> int:
    """Hold the per-slot resources of every slot of ``booking_type`` from ``now`` to its horizon that does not hold them yet; how many now do.

    Inside the caller's write transaction, as the booking type's tenant. Reads
    the candidates and what holds them once for the whole horizon; a slot
    that loses a race for its resources to a concurrent booking is skipped
    (its savepoint rolls back) and tried again on the next run.
    """
    requirements = per_slot_requirements(booking_type)
    if not requirements or booking_type.status is not BookingTypeStatus.active:
        return 0
    zone = ZoneInfo(session.get(Tenant, booking_type.tenant_id).time_zone)
    first_day = now.astimezone(zone).date()
    slots = [
        s for s in generate_slots(booking_type.availability_rules, zone, first_day, first_day + timedelta(days=horizon_days(booking_type))) if s.starts_at > now
    ]
    if not slots:
        return 0
    held = set(
        session.scalars(
            select(SlotInventory.starts_at)
            .join(ResourceAllocation, ResourceAllocation.inventory_id == SlotInventory.id)
            .where(
                SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at >= slots[0].starts_at, SlotInventory.starts_at <= slots[-1].starts_at
            )
            .distinct()
        )
    )
    candidates = resource_candidates(session, requirements)
    busy: dict[datetime, set[int]] = defaultdict(set)
    for resource_id, quantum in session.execute(
        select(ResourceAllocation.resource_id, ResourceAllocation.quantum_start).where(
            ResourceAllocation.resource_id.in_([c.id for c in candidates]),
            ResourceAllocation.quantum_start >= quanta(slots[0].starts_at, slots[0].ends_at)[0],
            ResourceAllocation.quantum_start < max(s.ends_at for s in slots),
        )
    ):
        busy[quantum].add(resource_id)
    newly_held = 0
    for slot in slots:
        if slot.starts_at in held:
            continue
        slices = quanta(slot.starts_at, slot.ends_at)
        chosen = pick_resources(requirements, candidates, set().union(*(busy[q] for q in slices)), slices[0], slices[-1] + QUANTUM, zone)
        if chosen is None:
            continue
        row = inventory_row(session, booking_type, slot, sorted(slot.capacities)[0])
        allocations = [
            {"tenant_id": booking_type.tenant_id, "resource_id": resource_id, "inventory_id": row.id, "booking_id": None, "quantum_start": quantum}
            for resource_id, _ in chosen
            for quantum in slices
        ]
        try:
            with session.begin_nested():
                session.execute(insert(ResourceAllocation), allocations)
        except IntegrityError:
            continue
        for resource_id, _ in chosen:
            for quantum in slices:
                busy[quantum].add(resource_id)
        newly_held += 1
    return newly_held


def reschedule_resources(session: Session, booking_type: BookingType, now: datetime) -> int:
    """After the booking type's rules or requirements changed: future slots nobody booked give back what they held, then every scheduled slot holds again.

    A slot with bookings keeps what it holds (moving its bookings is the merchant's decision).
    """
    unbooked = (
        select(SlotInventory.starts_at)
        .where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at > now)
        .group_by(SlotInventory.starts_at)
        .having(func.sum(SlotInventory.taken) == 0)
    )
    rows = select(SlotInventory.id).where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at.in_(unbooked))
    session.execute(delete(ResourceAllocation).where(ResourceAllocation.inventory_id.in_(rows)))
    return hold_scheduled_resources(session, booking_type, now)
