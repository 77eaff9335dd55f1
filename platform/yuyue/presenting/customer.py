"""What a customer reads: booking types with their forms, slots, their bookings, waitlist entries and companions.

Times are shown in the tenant's time zone with its offset; merchant text in the
reader's locale. Rendering a booking reads its open payment and never opens one:
a held booking without one says where to open it instead (``open_payment``).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yuyue.behaviour import CancellationTerms
from yuyue.bookings.checkin import voucher_qr
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus, WaitlistEntry
from yuyue.catalog.models import BookingType, PrivacyNotice
from yuyue.customers.models import Companion
from yuyue.customers.operations import mask_id_number, mask_phone
from yuyue.forms.models import FormVersion
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import pending_payment_instructions
from yuyue.presenting import booking_terms, local_time, proofs_to_show
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import localize, localize_all
from yuyue.presenting.reviews import BookingReviews
from yuyue.presenting.route import chosen_stops
from yuyue.scheduling.availability import SlotAvailability
from yuyue.tenancy.models import Tenant


def booking_type_summary(booking_type: BookingType, locale: str) -> dict[str, Any]:
    return {
        "slug": booking_type.slug,
        "vertical": booking_type.vertical,
        "name": localize(booking_type.name, locale),
        "description": localize(booking_type.description, locale),
        "price_amount": booking_type.price_amount,
        "currency": booking_type.currency,
        "max_party_size": booking_type.max_party_size,
    }


def privacy_notice_json(notice: PrivacyNotice | None, locale: str, zone: ZoneInfo) -> dict[str, Any] | None:
    """The notice a booking agrees to (its version goes back as ``privacy_consent.version``), its text in ``locale``; None when there is none."""
    if notice is None:
        return None
    return {"version": notice.version, "text": localize(notice.text, locale), "published_at": local_time(notice.created_at, zone)}


def booking_type_detail(
    booking_type: BookingType, form_version: FormVersion, locale: str, tenant: Tenant, notice: PrivacyNotice | None = None
) -> dict[str, Any]:
    priced = booking_type.price_amount > 0 or any(ticket_type["price_amount"] > 0 for ticket_type in booking_type.ticket_types)
    return {
        **booking_type_summary(booking_type, locale),
        "ticket_types": [ticket_type_json(ticket_type, locale) for ticket_type in booking_type.ticket_types],
        "form_version": form_version.version,
        "form_schema": form_registry().compiled(form_version.definition),
        "ui_schema": localize_all(form_version.ui, locale),
        "availability_rules": booking_type.availability_rules,
        "policies": booking_type.policies,
        "hold_minutes": booking_type.hold_minutes if priced else 0,
        "time_zone": tenant.time_zone,
        "privacy_notice": privacy_notice_json(notice, locale, ZoneInfo(tenant.time_zone)),
    }


def ticket_type_json(ticket_type: dict[str, Any], locale: str) -> dict[str, Any]:
    return {
        "key": ticket_type["key"],
        "name": localize(ticket_type["name"], locale),
        "price_amount": ticket_type["price_amount"],
        "proof": localize(ticket_type.get("proof"), locale),
        "min_age": ticket_type.get("min_age"),
        "max_age": ticket_type.get("max_age"),
    }


def slot_json(slot: SlotAvailability, locale: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "starts_at": local_time(slot.starts_at, zone),
        "ends_at": local_time(slot.ends_at, zone),
        "local_date": slot.local_date.isoformat(),
        "channel": slot.channel,
        "capacity": slot.capacity,
        "remaining": slot.remaining,
        "bookable": slot.bookable,
        "reason": slot.reason,
        "opens_at": local_time(slot.opens_at, zone) if slot.opens_at else None,
        "label": localize(slot.label, locale),
    }


def booking_json(session: Session, tenant: Tenant, booking: Booking, *, secret_key: str, pay_url: str, reviews: BookingReviews | None = None) -> dict[str, Any]:
    """The booking as its customer sees it; ``pay_url`` is where a held booking without an open payment opens one (POST).

    ``reviews``: the reviews of the page of bookings this one is shown in, read once for the page.
    """
    voucher = None
    if booking.status is BookingStatus.confirmed and booking.voucher_code:
        voucher = {"code": booking.voucher_code, "qr": voucher_qr(secret_key, tenant, booking), "proofs": proofs_to_show(booking.price_lines)}
    held, zone = booking.status is BookingStatus.held, ZoneInfo(tenant.time_zone)
    payment = pending_payment_instructions(session, booking) if held else None
    return {
        "id": booking.public_id,
        "booking_type": booking.booking_type.slug,
        **booking_terms(booking, zone),
        "hold_expires_at": local_time(booking.hold_expires_at, zone),
        "form_version": booking.form_version,
        "answers": booking.answers,
        # The pick-up and drop-off points the answers name, with when the trip reaches them.
        "stops": chosen_stops(session, booking, zone),
        "voucher": voucher,
        # What to do to pay, while the booking is held awaiting payment.
        "payment": payment,
        "open_payment": {"method": "POST", "url": pay_url} if held and payment is None else None,
        "reschedule_count": booking.reschedule_count,
        "created_at": local_time(booking.created_at, zone),
        # The customer's review of it, with the merchant's reply; null until they write one.
        "review": (reviews or BookingReviews(session, [booking])).json(booking, zone, locale_tag()),
    }


def cancellation_json(terms: CancellationTerms) -> dict[str, Any]:
    """The terms a cancellation was made under."""
    return {
        "terms": terms.code,
        "late": terms.late,
        "points_deducted": terms.points,
        "fee_percent": terms.fee_percent,
        "counts_as_no_show": terms.counts_as_no_show,
    }


def waitlist_json(session: Session, tenant: Tenant, entry: WaitlistEntry) -> dict[str, Any]:
    zone, booking_id = ZoneInfo(tenant.time_zone), None
    if entry.booking_id is not None:
        booking_id = session.get(Booking, entry.booking_id).public_id
    return {
        "id": entry.id,
        "booking_type": session.get(BookingType, entry.booking_type_id).slug,
        "starts_at": local_time(entry.starts_at, zone),
        "channel": entry.channel,
        "party_size": entry.party_size,
        "auto_confirm": entry.auto_confirm,
        "status": entry.status.value,
        "offer_expires_at": local_time(entry.offer_expires_at, zone),
        "booking": booking_id,
        "created_at": local_time(entry.created_at, zone),
    }


def companion_json(companion: Companion) -> dict[str, Any]:
    return {
        "id": companion.id,
        "name": companion.name,
        "id_number": companion.id_number,
        "phone": companion.phone,
        "relation": companion.relation,
        "birth_date": companion.birth_date.isoformat() if companion.birth_date else None,
    }


def name_list_json(booking: Booking, rows: list[BookingPerson]) -> dict[str, Any]:
    """A group's name list, ID numbers and phones masked: a booking token may be forwarded, the list is the group's."""
    return {
        "booking": booking.public_id,
        "headcount": booking.party_size,
        "rows": [
            {"name": row.name, "id_number": mask_id_number(row.id_number), "phone": mask_phone(row.phone) if row.phone else None, "is_minor": row.is_minor}
            for row in rows
        ],
    }
