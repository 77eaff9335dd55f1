"""Everything a tenant holds about one customer, as the machine-readable download the customer may ask for (PIPL art. 45, GDPR art. 20).

One JSON document: who they are and how they log in, every booking with its answers, people,
payments, refunds and check-ins, their waitlist entries, companions, points and credit ledgers
with the packages those name, their notification preferences, the bans on them, their consents to
privacy notices, the notifications sent to them, and the audit log's records about them, their
bookings, waitlist entries and companions. Values are as stored (the customer's own phone and ID
numbers in full; the audit log's as it keeps them, masked); times in the tenant's zone with
its offset. ``format_version`` changes when a key is removed or changes meaning; a key may be
added without it. Login secrets (code and refresh-token digests) are not the customer's data
but the means to protect it, and stay out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from yuyue.audit.models import AuditRecord
from yuyue.bookings.consents import consents_of_customer
from yuyue.bookings.models import Booking, BookingPerson, CheckIn, Feedback, WaitlistEntry
from yuyue.catalog.models import BookingType
from yuyue.credits.models import CreditEntry, CreditPackage
from yuyue.customers.models import Customer, PointsEntry
from yuyue.customers.operations import companions, points_balance
from yuyue.events.models import Delivery, DeliveryKind, NotificationPreference
from yuyue.payments.models import Payment, Refund
from yuyue.presenting import booking_terms, local_time
from yuyue.presenting.account import ban_json, customer_bans, points_entry_json, profile_json
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.customer import companion_json
from yuyue.presenting.reviews import customer_feedback_json, feedback_names
from yuyue.presenting.staff import consent_line_json
from yuyue.tenancy.models import Tenant

__all__ = ["FORMAT_VERSION", "personal_data"]

FORMAT_VERSION = 1


def personal_data(session: Session, tenant: Tenant, customer: Customer, now: datetime) -> dict[str, Any]:
    """The download of ``customer``'s data at ``tenant`` (in scope), as of ``now``."""
    zone = ZoneInfo(tenant.time_zone)
    bookings = list(session.scalars(select(Booking).where(Booking.customer_id == customer.id).order_by(Booking.id)))
    public_ids = {booking.id: booking.public_id for booking in bookings}
    preference = session.scalar(select(NotificationPreference).where(NotificationPreference.customer_id == customer.id))
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": local_time(now, zone),
        "tenant": {"slug": tenant.slug, "name": tenant.name, "time_zone": tenant.time_zone},
        "profile": profile_json(customer, zone),
        "login_identities": _login_identities(customer),
        "bookings": _bookings(session, customer, bookings, zone),
        "waitlist": _waitlist(session, customer, public_ids, zone),
        "companions": [companion_json(companion) | {"created_at": local_time(companion.created_at, zone)} for companion in companions(session, customer)],
        "points": _points(session, customer, public_ids, zone),
        "credits": _credits(session, customer, public_ids, zone),
        "notification_preferences": _preferences(preference, zone),
        "bans": [ban_json(ban, now, zone) for ban in customer_bans(session, customer, ending_after=None)],
        "privacy_consents": [consent_line_json(line, zone) for line in reversed(consents_of_customer(session, customer.id))],
        "notifications": _notifications(session, customer, zone),
        "audit": _audit(session, customer, public_ids, zone),
        "reviews": _reviews(session, customer, zone),
    }


def _reviews(session: Session, customer: Customer, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every review and feedback the customer wrote, oldest first, with the merchant's replies."""
    items = list(session.scalars(select(Feedback).where(Feedback.customer_id == customer.id).order_by(Feedback.id)))
    names, locale = feedback_names(session, items), locale_tag()
    return [customer_feedback_json(item, names, zone, locale) for item in items]


def _login_identities(customer: Customer) -> list[dict[str, Any]]:
    """How the customer logs in: their phone (by code), their WeChat mini-program account (its openid is WeChat's, only its presence is shown)."""
    identities = []
    if customer.phone:
        identities.append({"kind": "phone", "value": customer.phone})
    if customer.wechat_openid is not None:
        identities.append({"kind": "wechat_openid", "value": None})
    return identities


def _bookings(session: Session, customer: Customer, bookings: list[Booking], zone: ZoneInfo) -> list[dict[str, Any]]:
    mine = Booking.customer_id == customer.id
    people = _grouped(session.scalars(select(BookingPerson).join(Booking, Booking.id == BookingPerson.booking_id).where(mine).order_by(BookingPerson.id)))
    payments = list(session.scalars(select(Payment).join(Booking, Booking.id == Payment.booking_id).where(mine).order_by(Payment.id)))
    refunds = _grouped(
        session.scalars(
            select(Refund).join(Payment, Payment.id == Refund.payment_id).join(Booking, Booking.id == Payment.booking_id).where(mine).order_by(Refund.id)
        ),
        key="payment_id",
    )
    check_ins = _grouped(session.scalars(select(CheckIn).join(Booking, Booking.id == CheckIn.booking_id).where(mine).order_by(CheckIn.id)))
    paid = _grouped(payments)
    types = _booking_types(session, {booking.booking_type_id for booking in bookings})
    return [
        {
            "id": booking.public_id,
            "booking_type": types.get(booking.booking_type_id),
            **booking_terms(booking, zone),
            "form_version": booking.form_version,
            "answers": booking.answers,
            "people": [_person(person) for person in people.get(booking.id, [])],
            "voucher_code": booking.voucher_code,
            "hold_expires_at": local_time(booking.hold_expires_at, zone),
            "reschedule_count": booking.reschedule_count,
            "cancel_reason": booking.cancel_reason,
            "counts_as_no_show": booking.counts_as_no_show,
            "payments": [_payment(payment, refunds.get(payment.id, []), zone) for payment in paid.get(booking.id, [])],
            "check_ins": [
                {"at": local_time(check_in.at, zone), "method": check_in.method, "place": check_in.place} for check_in in check_ins.get(booking.id, [])
            ],
            "created_at": local_time(booking.created_at, zone),
            "updated_at": local_time(booking.updated_at, zone),
        }
        for booking in bookings
    ]


def _grouped(rows: Any, key: str = "booking_id") -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


def _booking_types(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Slug and name (every language, as the merchant wrote it) of each booking type, by id."""
    if not ids:
        return {}
    return {row.id: {"slug": row.slug, "name": row.name} for row in session.scalars(select(BookingType).where(BookingType.id.in_(sorted(ids))))}


def _person(person: BookingPerson) -> dict[str, Any]:
    return {
        "name": person.name,
        "id_number": person.id_number,
        "phone": person.phone,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "is_minor": person.is_minor,
        "on_name_list": person.on_name_list,
    }


def _payment(payment: Payment, refunds: list[Refund], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "provider": payment.provider,
        "reference": payment.reference,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status.value,
        "refunded_amount": payment.refunded_amount,
        "created_at": local_time(payment.created_at, zone),
        "paid_at": local_time(payment.paid_at, zone),
        "refunds": [
            {
                "reference": refund.reference,
                "amount": refund.amount,
                "status": refund.status.value,
                "reason": refund.reason,
                "created_at": local_time(refund.created_at, zone),
                "completed_at": local_time(refund.completed_at, zone),
            }
            for refund in refunds
        ],
    }


def _waitlist(session: Session, customer: Customer, public_ids: dict[int, str], zone: ZoneInfo) -> list[dict[str, Any]]:
    entries = list(session.scalars(select(WaitlistEntry).where(WaitlistEntry.customer_id == customer.id).order_by(WaitlistEntry.id)))
    types = _booking_types(session, {entry.booking_type_id for entry in entries})
    return [
        {
            "id": entry.id,
            "booking_type": types.get(entry.booking_type_id),
            "starts_at": local_time(entry.starts_at, zone),
            "channel": entry.channel,
            "party_size": entry.party_size,
            "tickets": entry.tickets,
            "answers": entry.answers,
            "people": entry.people,
            "auto_confirm": entry.auto_confirm,
            "status": entry.status.value,
            "offer_expires_at": local_time(entry.offer_expires_at, zone),
            "booking": public_ids.get(entry.booking_id) if entry.booking_id is not None else None,
            "created_at": local_time(entry.created_at, zone),
        }
        for entry in entries
    ]


def _points(session: Session, customer: Customer, public_ids: dict[int, str], zone: ZoneInfo) -> dict[str, Any]:
    entries = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer.id).order_by(PointsEntry.id))
    return {
        "balance": points_balance(session, customer),
        "entries": [points_entry_json(entry, public_ids, zone) for entry in entries],
    }


def _credits(session: Session, customer: Customer, public_ids: dict[int, str], zone: ZoneInfo) -> dict[str, Any]:
    """The credit ledger line by line, and the packages its lines name (code, name, credits, price, validity)."""
    entries = list(session.scalars(select(CreditEntry).where(CreditEntry.customer_id == customer.id).order_by(CreditEntry.id)))
    package_ids = sorted({entry.package_id for entry in entries if entry.package_id is not None})
    packages = {p.id: p for p in session.scalars(select(CreditPackage).where(CreditPackage.id.in_(package_ids)))} if package_ids else {}
    return {
        "packages": [
            {"code": p.code, "name": p.name, "credits": p.credits, "price_amount": p.price_amount, "currency": p.currency, "valid_days": p.valid_days}
            for p in packages.values()
        ],
        "entries": [
            {
                "id": entry.id,
                "reason": entry.reason.value,
                "delta": entry.delta,
                "package": packages[entry.package_id].code if entry.package_id in packages else None,
                "lot": entry.lot_id,
                "booking": public_ids.get(entry.booking_id) if entry.booking_id is not None else None,
                "expires_at": local_time(entry.expires_at, zone),
                "note": entry.note,
                "created_at": local_time(entry.created_at, zone),
            }
            for entry in entries
        ],
    }


def _notifications(session: Session, customer: Customer, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every notification planned for the customer: its channel, the event, when, what became of it, and the address as shown to staff.

    A customer's notification is the delivery ``notification:<channel>:<customer id>``; staff notices
    (``notification:<channel>:staff:<user id>``) and other customers' deliveries do not end in their id.
    """
    suffix = f":{customer.id}"
    rows = session.scalars(
        select(Delivery).where(Delivery.kind == DeliveryKind.notification, Delivery.subscriber.like(f"notification:%{suffix}")).order_by(Delivery.id)
    )
    return [
        {
            "channel": delivery.target,
            "topic": delivery.topic,
            "recipient": delivery.recipient,
            "status": delivery.status.value,
            "attempts": delivery.attempts,
            "created_at": local_time(delivery.created_at, zone),
            "delivered_at": local_time(delivery.delivered_at, zone),
        }
        for delivery in rows
        if delivery.subscriber == f"notification:{delivery.target}{suffix}"
    ]


def _audit(session: Session, customer: Customer, public_ids: dict[int, str], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The audit log's records about the customer, their bookings and their payments, waitlist entries and companions (deleted ones too), oldest first.

    Each with what it did, when, the kind of actor (customer, staff, system…, not who: staff are not the
    customer's data) and its data as the log keeps it: phones and ID numbers masked, as they were written.
    """
    entries = [str(i) for i in session.scalars(select(WaitlistEntry.id).where(WaitlistEntry.customer_id == customer.id))]
    payments = list(session.scalars(select(Payment.reference).join(Booking, Booking.id == Payment.booking_id).where(Booking.customer_id == customer.id)))
    about = or_(
        and_(AuditRecord.subject_type == "customer", AuditRecord.subject_id == str(customer.id)),
        and_(AuditRecord.subject_type == "booking", AuditRecord.subject_id.in_(sorted(public_ids.values()))),
        and_(AuditRecord.subject_type == "waitlist_entry", AuditRecord.subject_id.in_(entries)),
        and_(AuditRecord.subject_type == "payment", AuditRecord.subject_id.in_(payments)),
        # A companion's records name the customer in their data ("customer"; "customer_id" in records written before
        # decisions §64); a deleted companion's id is found nowhere else.
        and_(
            AuditRecord.subject_type == "companion",
            or_(AuditRecord.data["customer"].as_integer() == customer.id, AuditRecord.data["customer_id"].as_integer() == customer.id),
        ),
    )
    return [
        {
            "seq": record.seq,
            "at": local_time(record.at, zone),
            "actor": record.actor.split(":", 1)[0],
            "action": record.action,
            "subject_type": record.subject_type,
            "subject_id": record.subject_id,
            "data": record.data,
        }
        for record in session.scalars(select(AuditRecord).where(about).order_by(AuditRecord.seq))
    ]


def _preferences(preference: NotificationPreference | None, zone: ZoneInfo) -> dict[str, Any] | None:
    """What the customer chose to hear and where; None if they never chose (every channel on, nothing muted)."""
    if preference is None:
        return None
    return {
        "email": preference.email,
        "channels_off": list(preference.channels_off or ()),
        "muted": list(preference.muted or ()),
        "updated_at": local_time(preference.updated_at, zone),
    }
