"""What a tenant's staff read: booking types and resources as configured (every language), bookings with who booked them.

Staff see more than customers do (the customer, the people listed, the check-in),
but an ID number only by its last four characters.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yuyue.bookings.checkin import LoggedAttempt
from yuyue.bookings.consents import ConsentLine
from yuyue.bookings.models import Booking, BookingPerson, Consent
from yuyue.bookings.queries import BookingRecord
from yuyue.bookings.waitlist import WaitlistLine
from yuyue.catalog.models import BookingType, PrivacyNotice, Resource, RouteStop
from yuyue.catalog.operations import current_form_version
from yuyue.catalog.stops import stop_json_for_audit
from yuyue.customers.login_settings import LoginSettingsView
from yuyue.forms.formats import FormatProblem, is_cn_id_card
from yuyue.payments.models import Refund
from yuyue.payments.operations import CancellationQuote
from yuyue.presenting import booking_terms, local_time, proofs_to_show
from yuyue.presenting.customer import cancellation_json
from yuyue.tenancy.models import Tenant


def booking_type_json(session: Session, booking_type: BookingType, *, with_form: bool = False) -> dict[str, Any]:
    body = {
        "slug": booking_type.slug,
        "vertical": booking_type.vertical,
        "name": booking_type.name,
        "description": booking_type.description,
        "status": booking_type.status.value,
        "availability_rules": booking_type.availability_rules,
        "policies": booking_type.policies,
        "resource_requirements": booking_type.resource_requirements,
        "price_amount": booking_type.price_amount,
        "ticket_types": booking_type.ticket_types,
        "currency": booking_type.currency,
        "hold_minutes": booking_type.hold_minutes,
        "max_party_size": booking_type.max_party_size,
        "form_version": booking_type.form_version,
        "created_at": booking_type.created_at.isoformat(),
        "updated_at": booking_type.updated_at.isoformat(),
    }
    if with_form:
        form = current_form_version(session, booking_type)
        body["form"] = {"version": form.version, "definition": form.definition, "ui": form.ui}
    return body


def resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "code": resource.code,
        "kind": resource.kind,
        "name": resource.name,
        "schedule": resource.schedule,
        "active": resource.active,
        "created_at": resource.created_at.isoformat(),
    }


def stop_json(stop: RouteStop) -> dict[str, Any]:
    return {**stop_json_for_audit(stop), "created_at": stop.created_at.isoformat()}


def masked_id_number(id_number: str | None) -> str | None:
    # Enough to match the card in the visitor's hand; the full number stays in the database.
    return None if id_number is None else "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def booking_json(record: BookingRecord, tenant: Tenant, *, with_answers: bool = False) -> dict[str, Any]:
    booking, zone = record.booking, ZoneInfo(tenant.time_zone)
    body = {
        "id": booking.public_id,
        "booking_type": record.booking_type.slug,
        **booking_terms(booking, zone),
        "time_zone": zone.key,
        # What the door staff check for this booking, e.g. a student card for each student ticket.
        "proofs": proofs_to_show(booking.price_lines),
        "voucher_code": booking.voucher_code,
        "hold_expires_at": local_time(booking.hold_expires_at, zone),
        "cancel_reason": booking.cancel_reason,
        "created_at": local_time(booking.created_at, zone),
        "customer": {"id": record.customer.id, "phone": record.customer.phone, "name": record.customer.name},
        "people": [{"name": p.name, "phone": p.phone, "id_number": masked_id_number(p.id_number), "is_minor": p.is_minor} for p in record.people],
        "check_in": (
            {"at": local_time(record.check_in.at, zone), "place": record.check_in.place, "method": record.check_in.method} if record.check_in else None
        ),
        "privacy_consents": [consent_json(consent, zone) for consent in record.consents],
    }
    if with_answers:
        body["form_version"] = booking.form_version
        body["answers"] = _masked_answers(booking.answers)
    return body


def consent_json(consent: Consent, zone: ZoneInfo) -> dict[str, Any]:
    """A consent to a privacy notice version, as its booking shows it: which version, where and when."""
    return {"id": consent.id, "version": consent.notice_version, "channel": consent.channel.value, "given_at": local_time(consent.given_at, zone)}


def consent_row_json(consent: Consent, booking_public_id: str | None, zone: ZoneInfo) -> dict[str, Any]:
    """A consent in a notice's list of them: with whose it is, and the booking (or the waitlist entry still waiting) it was given for."""
    return consent_json(consent, zone) | {"booking": booking_public_id, "customer": consent.customer_id, "waitlist_entry": consent.waitlist_entry_id}


def consent_line_json(line: ConsentLine, zone: ZoneInfo) -> dict[str, Any]:
    """A consent among a customer's: to which booking type's notice, for which booking (or waitlist entry still waiting)."""
    return consent_json(line.consent, zone) | {"booking_type": line.booking_type, "booking": line.booking, "waitlist_entry": line.consent.waitlist_entry_id}


def privacy_notice_json(booking_type: BookingType, versions: list[PrivacyNotice], count: int, zone: ZoneInfo) -> dict[str, Any]:
    """A booking type's notice as staff manage it: the version bookings agree to now and the history, newest first."""
    shown = [_notice_version_json(notice, zone) for notice in versions]
    current = next((v for v in shown if v["version"] == booking_type.privacy_notice_version), None)
    return {"booking_type": booking_type.slug, "current": current, "versions": shown, "version_count": count}


def _notice_version_json(notice: PrivacyNotice, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "version": notice.version,
        "text": notice.text,
        "withdrawn": notice.text is None,
        "created_at": local_time(notice.created_at, zone),
        "created_by": notice.created_by,
    }


def _masked_answers(value: Any) -> Any:
    """The answers with every mainland ID number masked, however deep (a companion's too), as the booking's people are (decisions §19)."""
    if isinstance(value, dict):
        return {key: _masked_answers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_answers(item) for item in value]
    if isinstance(value, str) and _is_id_number(value):
        return masked_id_number(value)
    return value


def _is_id_number(text: str) -> bool:
    try:
        return is_cn_id_card(text)
    except FormatProblem:
        return False


def name_list_json(booking: Booking, rows: list[BookingPerson]) -> dict[str, Any]:
    """A group's name list as staff see it: ID numbers masked like the booking's people."""
    return {
        "booking": booking.public_id,
        "headcount": booking.party_size,
        "rows": [{"name": row.name, "id_number": masked_id_number(row.id_number), "phone": row.phone, "is_minor": row.is_minor} for row in rows],
    }


def login_settings_json(view: LoginSettingsView) -> dict[str, Any]:
    return {
        "provider": view.provider,
        "source": view.source,
        "settings": view.settings,
        "write_only_set": view.write_only_set,
        "settings_schema": view.settings_schema,
    }


def cancellation_quote_json(quote: CancellationQuote) -> dict[str, Any]:
    """What cancelling now would mean: the terms staff cancel under, the customer's own, what was paid and what goes back."""
    return {
        "booking": quote.outlook.booking.public_id,
        "terms": cancellation_json(quote.outlook.terms),
        "customer_terms": {**cancellation_json(quote.outlook.customer_terms), "allowed": quote.outlook.customer_terms.allowed},
        "paid": quote.paid,
        "refund": quote.refund,
        "currency": quote.outlook.booking.currency,
    }


def refunds_json(refunds: list[Refund]) -> dict[str, Any]:
    return {"refunds": [{"reference": r.reference, "amount": r.amount, "status": r.status.value, "reason": r.reason} for r in refunds]}


def waitlist_json(booking_type: BookingType, lines: list[WaitlistLine], tenant: Tenant) -> dict[str, Any]:
    """A slot's waitlist in queue order; ``position`` counts only those still waiting, per channel."""
    zone = ZoneInfo(tenant.time_zone)
    return {
        "booking_type": booking_type.slug,
        "entries": [
            {
                "id": line.entry.id,
                "position": line.position,
                "status": line.entry.status.value,
                "channel": line.entry.channel,
                "party_size": line.entry.party_size,
                "starts_at": local_time(line.entry.starts_at, zone),
                "offer_expires_at": local_time(line.entry.offer_expires_at, zone),
                "created_at": local_time(line.entry.created_at, zone),
                "customer": {"id": line.customer.id, "phone": line.customer.phone, "name": line.customer.name},
            }
            for line in lines
        ],
    }


def check_in_log_json(day: date, lines: list[LoggedAttempt], tenant: Tenant) -> dict[str, Any]:
    """A day's check-in attempts, newest first; codes only by their last four characters."""
    zone = ZoneInfo(tenant.time_zone)
    return {
        "day": day.isoformat(),
        "attempts": [
            {
                "at": local_time(line.attempt.at, zone),
                "outcome": line.attempt.outcome.value,
                "reason": line.attempt.reason,
                "method": line.attempt.method,
                "code": line.attempt.masked_code,
                "booking": line.booking_public_id,
                "staff": line.staff_username,
                "place": line.attempt.place,
            }
            for line in lines
        ],
    }
