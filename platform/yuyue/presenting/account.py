"""The customer's own account as they read it: their profile, points ledger and the bans that keep them from booking.

A customer sees their own phone and ID numbers in full: they are theirs (staff lists and the
audit log mask them). The ID numbers that are theirs are those of their saved companions and
of the people on their bookings: a ban on one of those refuses their bookings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, BookingPerson
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, PointsEntry
from yuyue.customers.operations import bans_on
from yuyue.presenting import local_time

__all__ = ["ban_json", "booking_ids", "customer_bans", "id_numbers_of", "points_entry_json", "profile_json"]


def profile_json(customer: Customer, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "name": customer.name,
        "phone": customer.phone,
        "wechat_linked": customer.wechat_openid is not None,
        "created_at": local_time(customer.created_at, zone),
    }


def booking_ids(session: Session, customer: Customer, ids: Iterable[int | None]) -> dict[int, str]:
    """The public ids of the customer's bookings among ``ids``, by row id (a ledger line names its booking by row id)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(Booking.id, Booking.public_id).where(Booking.customer_id == customer.id, Booking.id.in_(wanted)))
    return {row_id: public_id for row_id, public_id in rows}


def points_entry_json(entry: PointsEntry, bookings: dict[int, str], zone: ZoneInfo) -> dict[str, Any]:
    """A ledger line; ``bookings`` names the bookings by row id (:func:`booking_ids`)."""
    return {
        "id": entry.id,
        "delta": entry.delta,
        "reason": entry.reason,
        "booking": bookings.get(entry.booking_id) if entry.booking_id is not None else None,
        "created_at": local_time(entry.created_at, zone),
    }


def id_numbers_of(session: Session, customer: Customer) -> set[str]:
    """The ID numbers of the customer's companions and of the people on their bookings."""
    saved = session.scalars(select(Companion.id_number).where(Companion.customer_id == customer.id, Companion.id_number.is_not(None)))
    booked = session.scalars(
        select(BookingPerson.id_number)
        .join(Booking, Booking.id == BookingPerson.booking_id)
        .where(Booking.customer_id == customer.id, BookingPerson.id_number.is_not(None))
        .distinct()
    )
    return {*saved, *booked}


def customer_bans(session: Session, customer: Customer, *, ending_after: datetime | None) -> list[Ban]:
    """Bans on the customer, their phone or their ID numbers (see :func:`id_numbers_of`); all of them when ``ending_after`` is None."""
    return bans_on(session, customer, id_numbers=id_numbers_of(session, customer), ending_after=ending_after)


def ban_json(ban: Ban, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """A ban as the customer it applies to reads it: on what (their phone or ID number in full), why, from when until when."""
    return {
        "subject_kind": ban.subject_kind.value,
        "subject": None if ban.subject_kind is BanSubject.customer else ban.subject,
        "reason": ban.reason,
        "starts_at": local_time(ban.starts_at, zone),
        "ends_at": local_time(ban.ends_at, zone),
        "in_force": ban.starts_at <= now < ban.ends_at,
    }
