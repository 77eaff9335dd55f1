"""What the front page says of each booking type: its next slot and who holds it, and the first open day's slots.

A card is the same for every vertical; the theme's ``site/cards/<vertical>.html`` picks what to show
(a class its next time and coach, a shuttle its next departure and seats, a timed entry its day's
slots). Each type costs its availability listing and, when it needs resources, one query for the
resources its next slot holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.bookings.models import ResourceAllocation
from yuyue.catalog.models import BookingType, Resource
from yuyue.presenting.language import localize
from yuyue.scheduling.models import SlotInventory
from yuyue.site.slots import SlotView, day_slots, reader_locale
from yuyue.tenancy.models import Tenant

__all__ = ["CARD_DAYS", "Card", "card_of"]

# How far ahead a card looks for the next slot: a week covers weekly classes and the usual booking windows.
CARD_DAYS = 7


@dataclass
class Card:
    """``next``: the first slot that can be booked; ``held``: the resources it holds (``{"kind", "name"}``: its coach, its room);
    ``day`` and ``day_slots``: the first day in reach that has slots, and its slots whatever their state."""

    next: SlotView | None = None
    held: list[dict[str, str]] = field(default_factory=list)
    day: date | None = None
    day_slots: list[SlotView] = field(default_factory=list)


def _held_by_slot(session: Session, booking_type: BookingType, starts_at: datetime) -> list[dict[str, str]]:
    """The resources the slot holds (or, before it holds any, the ones its requirements name), each with its kind and name."""
    locale = reader_locale()
    held = (
        select(ResourceAllocation.resource_id)
        .join(SlotInventory, SlotInventory.id == ResourceAllocation.inventory_id)
        .where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at == starts_at)
    )
    # By id: PostgreSQL cannot compare JSON names for DISTINCT.
    rows = session.execute(select(Resource.kind, Resource.name).where(Resource.id.in_(held)).order_by(Resource.id)).all()
    if not rows:
        named = [rid for requirement in booking_type.resource_requirements for rid in requirement.get("resource_ids") or []]
        rows = session.execute(select(Resource.kind, Resource.name).where(Resource.id.in_(named)).order_by(Resource.id)).all() if named else []
    return [{"kind": kind, "name": str(localize(name, locale))} for kind, name in rows]


def card_of(session: Session, tenant: Tenant, booking_type: BookingType, now: datetime) -> Card:
    today = now.astimezone(ZoneInfo(tenant.time_zone)).date()
    slots = day_slots(session, tenant, booking_type, today, today + timedelta(days=CARD_DAYS - 1), now, links=False)
    card = Card(next=next((slot for slot in slots if slot.bookable), None))
    if card.next is not None and booking_type.resource_requirements:
        card.held = _held_by_slot(session, booking_type, card.next.starts_at)
    upcoming = [slot for slot in slots if slot.ends_at > now]
    if upcoming:
        card.day = upcoming[0].starts_at.astimezone(ZoneInfo(tenant.time_zone)).date()
        card.day_slots = [slot for slot in upcoming if slot.starts_at.astimezone(ZoneInfo(tenant.time_zone)).date() == card.day]
    return card
