"""A tenant's customers as its staff read them: in a list, and one customer's page.

Owners and managers see phones and ID numbers in full; the other staff roles see
a phone as ``138****0000`` and an ID number by its last four characters, as every
staff role sees those of a booking's people (decisions §19). The merchant's tags
and note are shown as stored: JSON escapes them, a page must too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuyue.bookings.customer_records import CustomerRecord, CustomerRow
from yuyue.bookings.queries import BookingRecord
from yuyue.customers.models import Ban, BanSubject, Companion, Customer
from yuyue.customers.operations import mask_phone
from yuyue.presenting import local_time
from yuyue.presenting.staff import consent_line_json, masked_id_number
from yuyue.tenancy.models import ROLE_RANK, StaffRole

__all__ = ["customer_json", "customer_row_json", "masked_phone", "sees_in_full"]


def sees_in_full(role: StaffRole) -> bool:
    """Whether staff of ``role`` see customers' phones and ID numbers unmasked: managers and owners."""
    return ROLE_RANK[role] >= ROLE_RANK[StaffRole.manager]


def masked_phone(phone: str | None) -> str | None:
    return None if phone is None else mask_phone(phone)


def _phone(phone: str | None, full: bool) -> str | None:
    return phone if full else masked_phone(phone)


def _id_number(id_number: str | None, full: bool) -> str | None:
    return id_number if full else masked_id_number(id_number)


def _profile(customer: Customer, zone: ZoneInfo, full: bool) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": _phone(customer.phone, full),
        "tags": customer.tags,
        "created_at": local_time(customer.created_at, zone),
    }


def customer_row_json(row: CustomerRow, zone: ZoneInfo, *, full: bool) -> dict[str, Any]:
    """A customer in a search's results."""
    return {**_profile(row.customer, zone, full), "bookings": row.bookings, "points": row.points, "banned": row.banned}


def customer_json(record: CustomerRecord, credits: dict[str, Any], zone: ZoneInfo, now: datetime, *, full: bool) -> dict[str, Any]:
    """A customer's page: ``credits`` is their class credits as staff read them (:func:`yuyue.presenting.credits.credits_json`)."""
    return {
        **_profile(record.customer, zone, full),
        "note": record.customer.note,
        "points": {
            "balance": record.points_balance,
            "history": [
                {
                    "id": entry.id,
                    "delta": entry.delta,
                    "reason": entry.reason,
                    "booking": record.points_bookings.get(entry.booking_id),
                    "created_at": local_time(entry.created_at, zone),
                }
                for entry in record.points
            ],
        },
        "no_shows": {"count": record.no_show_count, "bookings": [_booking(r, zone) for r in record.no_shows]},
        "bans": [_ban(ban, zone, now, full) for ban in record.bans],
        "companions": [_companion(c, full) for c in record.companions],
        "bookings": {"count": record.bookings_count, "recent": [_booking(r, zone) for r in record.bookings]},
        "credits": {key: value for key, value in credits.items() if key != "customer"},  # the page is the customer's already
        "privacy_consents": [consent_line_json(line, zone) for line in record.consents],
    }


def _booking(record: BookingRecord, zone: ZoneInfo) -> dict[str, Any]:
    booking = record.booking
    return {
        "id": booking.public_id,
        "booking_type": record.booking_type.slug,
        "status": booking.status.value,
        "starts_at": local_time(booking.starts_at, zone),
        "party_size": booking.party_size,
        "price_amount": booking.price_amount,
        "currency": booking.currency,
        "counts_as_no_show": booking.counts_as_no_show,
    }


def _ban(ban: Ban, zone: ZoneInfo, now: datetime, full: bool) -> dict[str, Any]:
    shown = {BanSubject.customer: str, BanSubject.phone: lambda s: _phone(s, full), BanSubject.id_number: lambda s: _id_number(s, full)}
    return {
        "id": ban.id,
        "subject_kind": ban.subject_kind.value,
        "subject": shown[ban.subject_kind](ban.subject),
        "starts_at": local_time(ban.starts_at, zone),
        "ends_at": local_time(ban.ends_at, zone),
        "active": ban.starts_at <= now < ban.ends_at,
        "reason": ban.reason,
    }


def _companion(companion: Companion, full: bool) -> dict[str, Any]:
    return {
        "id": companion.id,
        "name": companion.name,
        "id_number": _id_number(companion.id_number, full),
        "phone": _phone(companion.phone, full),
        # The birth date is digits 7-14 of the ID number: shown only to those who see the number.
        "birth_date": companion.birth_date.isoformat() if companion.birth_date and full else None,
        "relation": companion.relation,
    }
