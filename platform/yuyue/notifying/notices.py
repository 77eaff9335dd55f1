"""Customer (and staff) notifications of outbox events: which event is worth a message, to whom, on which channels, in which words.

:class:`CustomerNotices` is the notification subscriber. At fan-out (``plan``) it loads what the
event is about (the booking, its customer, booking type and tenant), picks the channels (the
tenant's enabled ones, less those the customer turned off, where the customer has an address)
and renders the message there and then, in the customer's language, so every attempt sends
the same words. ``send`` hands the rendered message to the channel.

A notification delivery's ``payload`` is the rendered message, fixed at fan-out::

    {"channel": "email", "to": "a@example.com", "locale": "zh-Hans", "event": "booking.confirmed", "tenant": "museum",
     "subject": "…", "text": "…", "html": "…" | None,
     "attachments": [{"filename": "booking.ics", "media_type": "text/calendar", "content_base64": "…"}],
     "data": {…channel-specific: "unsubscribe_url" on optional emails (List-Unsubscribe)…},
     "params": {…the template variables the SMS/WeChat providers map, as short strings…}}
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from flask import Flask, has_app_context
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from yuyue.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from yuyue.bookings.sessions import BELOW_MINIMUM
from yuyue.bookings.vouchers import qr_payload
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Customer
from yuyue.customers.operations import mask_phone
from yuyue.db import db
from yuyue.events import channel_settings
from yuyue.events.channel_settings import send_payload
from yuyue.events.channels import NotificationFailed, channels
from yuyue.events.delivery import DeliveryFailed, PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, OutboxEvent
from yuyue.notifying import templates
from yuyue.notifying.preferences import Preferences, preferences_of, unsubscribe_token
from yuyue.payments.models import Payment
from yuyue.presenting.language import localize
from yuyue.presenting.vouchers import calendar_file, qr_png_data_uri
from yuyue.tenancy.models import StaffMembership, StaffRole, Tenant

__all__ = ["DEFAULT_PUBLIC_URL", "NOTIFICATION_RETRY_DELAYS", "CustomerNotices", "notice_context", "public_url", "sample_context"]

NOTIFICATION_RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))
# Where links in messages point when the installation does not say (YUYUE_PUBLIC_URL): the development server.
DEFAULT_PUBLIC_URL = "http://localhost:5000"
# Who hears that a webhook endpoint was disabled.
STAFF_NOTIFIED = (StaffRole.owner, StaffRole.manager)


@dataclass
class About:
    """What an event is about, loaded once for its messages."""

    tenant: Tenant
    customer: Customer
    booking_type: BookingType
    starts_at: datetime
    ends_at: datetime
    booking: Booking | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def public_url(app: Flask, endpoint: str, **values: Any) -> str:
    """An absolute link to ``endpoint`` under the site's public address (``YUYUE_PUBLIC_URL``), built without a request."""
    base = (app.config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    scheme, _, rest = base.partition("://")
    host, _, script = rest.partition("/")
    adapter = app.url_map.bind(host, script_name="/" + script if script else "/", url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)


def _link(app: Flask, endpoint: str, **values: Any) -> str | None:
    try:
        return public_url(app, endpoint, **values)
    except BuildError:
        return None  # the site is not part of this application (an API-only test app)


def _babel_locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


def _when(moment: datetime | None, zone: ZoneInfo, locale: str) -> str | None:
    """A moment as the reader writes it, on the tenant's wall clock: ``Dec 14, 2026 09:00`` / ``2026年12月14日 09:00``."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    babel_locale = _babel_locale(locale)
    return f"{dates.format_date(local.date(), 'medium', locale=babel_locale)} {dates.format_time(local.time(), 'HH:mm', locale=babel_locale)}"


def _money(amount: int, currency: str, locale: str) -> str:
    return numbers.format_currency(Decimal(amount) / 100, currency, locale=_babel_locale(locale))


def _locale_of(tenant: Tenant) -> str:
    """The customer's language: none is recorded per booking yet, so the tenant's first locale (the site's default)."""
    for locale in tenant.locales or ():
        if locale in templates.TEMPLATE_LOCALES:
            return locale
    return templates.TEMPLATE_LOCALES[0]


def notice_context(app: Flask, about: About, event: str, payload: Mapping[str, Any], locale: str, *, email: bool) -> dict[str, Any]:
    """The documented template variables (docs/notifications.md) of one event's message; every name is always present."""
    tenant, booking, zone = about.tenant, about.booking, ZoneInfo(about.tenant.time_zone)
    slug = tenant.slug
    voucher = _link(app, "site.voucher", tenant_slug=slug, public_id=booking.public_id) if booking else None
    links = {
        "voucher": voucher,
        "pay": _link(app, "site.pay_booking", tenant_slug=slug, public_id=booking.public_id) if booking else None,
        "accept": _link(app, "site.my_waitlist", tenant_slug=slug),
        "preferences": _link(app, "site.notification_preferences", tenant_slug=slug),
        "unsubscribe": None,
    }
    if event in templates.OPTIONAL_EVENTS and email:
        token = unsubscribe_token(app.config["SECRET_KEY"], slug, about.customer.id, event)
        links["unsubscribe"] = _link(app, "site.unsubscribe", tenant_slug=slug, token=token)
    previous = payload.get("from")
    return {
        "locale": locale,
        "event": event,
        "subject": "",
        "qr": None,
        "tenant": {"name": tenant.name, "slug": slug},
        "customer": {"name": about.customer.name or "", "phone": mask_phone(about.customer.phone) if about.customer.phone else ""},
        "booking_type": {"name": localize(about.booking_type.name, locale) or about.booking_type.slug, "slug": about.booking_type.slug},
        "booking": {
            "id": booking.public_id if booking else None,
            "status": booking.status.value if booking else None,
            "voucher_code": (booking.voucher_code or "") if booking else "",
            "party_size": booking.party_size if booking else None,
            "price": _money(booking.price_amount, booking.currency, locale) if booking else None,
            "pay_by": _when(booking.hold_expires_at, zone, locale) if booking else None,
        },
        "slot": {
            "starts": _when(about.starts_at, zone, locale),
            "ends": _when(about.ends_at, zone, locale),
            "date": dates.format_date(about.starts_at.astimezone(zone).date(), "full", locale=_babel_locale(locale)),
            "time": about.starts_at.astimezone(zone).strftime("%H:%M"),
        },
        "previous": {"starts": _when(datetime.fromisoformat(previous), zone, locale) if isinstance(previous, str) else None},
        "terms": {
            "late": bool(payload.get("late")),
            "fee_percent": payload.get("fee_percent") or 0,
            "points": payload.get("points") or 0,
            "by_staff": bool(payload.get("by_staff")),
        },
        "offer": {"expires": _when(about.extra.get("offer_expires_at"), zone, locale)},
        "refund": {"amount": _money(about.extra["refund_amount"], about.extra["currency"], locale) if "refund_amount" in about.extra else None},
        "endpoint": {"url": payload.get("url"), "reason": payload.get("reason")},
        "links": links,
    }


def sample_context(app: Flask, tenant: Tenant, event: str, locale: str, *, email: bool) -> dict[str, Any]:
    """Made-up data in the shape of :func:`notice_context`, for a merchant's preview and for checking a template when saved."""
    now = datetime(2026, 12, 14, 1, 0, tzinfo=ZoneInfo("UTC"))
    customer = Customer(id=1, phone="13800000000", name="Li Lei")
    booking_type = BookingType(slug="sample", name={"zh-Hans": "示例预约", "zh-Hant": "示例預約", "en": "Sample booking"})
    booking = Booking(
        public_id="sample0000000000",
        status=BookingStatus.confirmed,
        voucher_code="ABCDE23456",
        party_size=2,
        price_amount=12800,
        currency="CNY",
        hold_expires_at=now - timedelta(minutes=30),
    )
    about = About(
        tenant,
        customer,
        booking_type,
        now,
        now + timedelta(hours=1),
        booking,
        {"offer_expires_at": now - timedelta(hours=1), "refund_amount": 12800, "currency": "CNY"},
    )
    payload = {
        "from": (now - timedelta(days=1)).isoformat(),
        "late": True,
        "fee_percent": 20,
        "points": 5,
        "url": "https://crm.example.com/hooks",
        "reason": "HTTP 500",
    }
    context = notice_context(app, about, event, payload, locale, email=email)
    context["links"] = {key: value or f"https://example.com/{key}" for key, value in context["links"].items()}
    return context


def _email_on_form(answers: Mapping[str, Any]) -> str | None:
    """An email address the booking's form asked for (the first answer that is one)."""
    for value in (answers or {}).values():
        if isinstance(value, str) and "@" in value and len(value) <= 254 and " " not in value.strip():
            local, _, domain = value.strip().rpartition("@")
            if local and "." in domain:
                return value.strip()
    return None


def _address(channel: Any, customer: Customer, preferences: Preferences, booking: Booking | None) -> str | None:
    kind = getattr(channel, "address_kind", "phone")
    if kind == "email":
        return preferences.email or (_email_on_form(booking.answers) if booking else None)
    if kind == "wechat_openid":
        return customer.wechat_openid
    return customer.phone


def _recipient(channel: Any, address: str) -> str:
    return mask_phone(address) if getattr(channel, "address_kind", "phone") == "phone" else address[:200]


def _starts(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _booking(session: Session, public_id: Any) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.public_id == public_id)) if isinstance(public_id, str) else None


def _about(session: Session, tenant: Tenant, event: OutboxEvent) -> About | None:
    """What ``event`` is about, or None when there is no one to tell (or nothing left to say)."""
    topic, payload = event.topic, event.payload or {}
    extra: dict[str, Any] = {}
    if topic.startswith("waitlist."):
        entry = session.get(WaitlistEntry, payload.get("entry")) if isinstance(payload.get("entry"), int) else None
        if entry is None or (topic == "waitlist.offered" and entry.status is not WaitlistStatus.offered):
            return None  # accepted or left before the offer was told: nothing to offer any more
        booking_type = session.get(BookingType, entry.booking_type_id)
        return About(
            tenant, session.get(Customer, entry.customer_id), booking_type, entry.starts_at, entry.starts_at, None, {"offer_expires_at": entry.offer_expires_at}
        )
    if topic == "payment.refund_succeeded":
        payment = session.scalar(select(Payment).where(Payment.reference == payload.get("payment")))
        booking = session.get(Booking, payment.booking_id) if payment else None
        if booking is None:
            return None
        extra = {"refund_amount": int(payload.get("refund_amount") or 0), "currency": payment.currency}
    else:
        booking = _booking(session, payload.get("booking"))
        if booking is None:
            return None
        if topic == "booking.held" and booking.status is not BookingStatus.held:
            return None  # paid (its confirmation says so) or expired before it was told
        if topic == "booking.cancelled" and booking.cancel_reason == BELOW_MINIMUM:
            return None  # booking.cancelled_below_minimum says it, with the reason
        if topic == "booking.reminder" and (booking.status is not BookingStatus.confirmed or _starts(payload.get("starts_at")) != booking.starts_at):
            return None  # cancelled or moved since the reminder fell due: the moved booking gets its own
    starts_at, ends_at = booking.starts_at, booking.ends_at
    if topic == "booking.rescheduled" and _starts(payload.get("to")):
        # The time it was moved to then; it may have moved again since, and that move has its own message.
        ends_at = _starts(payload["to"]) + (booking.ends_at - booking.starts_at)
        starts_at = _starts(payload["to"])
    customer = session.get(Customer, booking.customer_id)
    return About(tenant, customer, session.get(BookingType, booking.booking_type_id), starts_at, ends_at, booking, extra)


def _attachments(app: Flask, about: About, locale: str, context: Mapping[str, Any], now: datetime) -> list[dict[str, str]]:
    """The confirmation's calendar entry, at the tenant's local time."""
    booking = about.booking
    if booking is None:
        return []
    description = context["booking"]["voucher_code"] or None
    body = calendar_file(
        uid=f"{booking.public_id}@{about.tenant.slug}",
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        zone=ZoneInfo(about.tenant.time_zone),
        summary=f"{context['booking_type']['name']} · {about.tenant.name}",
        location=about.tenant.name,
        description=description,
        url=context["links"]["voucher"] or DEFAULT_PUBLIC_URL,
        now=now,
    )
    return [{"filename": f"booking-{booking.public_id}.ics", "media_type": "text/calendar", "content_base64": base64.b64encode(body).decode()}]


def _params(context: Mapping[str, Any]) -> dict[str, str]:
    """The variables SMS and WeChat templates fill in, flat and short (gateways cap each at about 20 characters)."""
    found = {
        "tenant": context["tenant"]["name"],
        "name": context["booking_type"]["name"],
        "when": context["slot"]["starts"],
        "code": context["booking"]["voucher_code"],
        "deadline": context["booking"]["pay_by"] or context["offer"]["expires"],
        "before": context["previous"]["starts"],
        "amount": context["refund"]["amount"] or context["booking"]["price"],
        "booking": context["booking"]["id"],
    }
    return {key: str(value) for key, value in found.items() if value}


class CustomerNotices:
    """The notification subscriber: plans one delivery per (recipient, channel) of a notified event; sends through the channel registry."""

    kind = DeliveryKind.notification
    retry_delays = NOTIFICATION_RETRY_DELAYS

    def __init__(self, app: Flask) -> None:
        self.app = app

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]:
        if event.topic not in templates.NOTIFIED_EVENTS:
            return []
        tenant = session.get(Tenant, event.tenant_id)
        if event.topic in templates.STAFF_EVENTS:
            return self._plan_staff(session, tenant, event)
        about = _about(session, tenant, event)
        if about is None or about.customer is None:
            return []
        preferences = preferences_of(session, about.customer.id)
        if event.topic in templates.OPTIONAL_EVENTS and event.topic in preferences.muted:
            return []
        registry, locale = channels(self.app), _locale_of(tenant)
        planned = []
        for key in channel_settings.enabled_channels(session, self.app):
            if key in preferences.channels_off or key not in registry:
                continue
            channel = registry.get(key)
            address = _address(channel, about.customer, preferences, about.booking)
            if not address:
                continue
            payload = self._message(session, about, event, key, templates.is_email(channel), locale, address)
            planned.append(
                PlannedDelivery(
                    subscriber=f"notification:{key}:{about.customer.id}",
                    kind=DeliveryKind.notification,
                    target=key,
                    payload=payload,
                    recipient=_recipient(channel, address),
                )
            )
        return planned

    def _message(self, session: Session, about: About, event: OutboxEvent, key: str, email: bool, locale: str, address: str) -> dict[str, Any]:
        context = notice_context(self.app, about, event.topic, event.payload or {}, locale, email=email)
        booking = about.booking
        if email and event.topic == "booking.confirmed" and booking is not None and booking.voucher_code:
            context["qr"] = qr_png_data_uri(qr_payload(self.app.config["SECRET_KEY"], about.tenant.slug, booking.public_id, booking.voucher_code))
        rendered = templates.render(session, event.topic, key, locale, context, email=email)
        attachments = _attachments(self.app, about, locale, context, event.created_at) if email and event.topic == "booking.confirmed" else []
        data: dict[str, Any] = {}
        if context["links"]["unsubscribe"]:
            data["unsubscribe_url"] = context["links"]["unsubscribe"]
        return {
            "channel": key,
            "to": address,
            "locale": locale,
            "event": event.topic,
            "tenant": about.tenant.slug,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "attachments": attachments,
            "data": data,
            "params": _params(context),
        }

    def _plan_staff(self, session: Session, tenant: Tenant, event: OutboxEvent) -> list[PlannedDelivery]:
        """The tenant's owners and managers, at their login's email: on the email channel when it is on, else the log channel."""
        enabled = channel_settings.enabled_channels(session, self.app)
        registry = channels(self.app)
        key = next((key for key in enabled if key in registry and templates.is_email(registry.get(key))), "log")
        rows = session.execute(
            select(User.id, User.email)
            .join(StaffMembership, StaffMembership.user_id == User.id)
            .where(StaffMembership.role.in_(STAFF_NOTIFIED))
            .order_by(User.id)
        ).all()
        locale = _locale_of(tenant)
        planned = []
        for user_id, address in rows:
            if not address:
                continue
            about = About(tenant, Customer(id=0, name=""), BookingType(slug="", name=""), event.created_at, event.created_at)
            email = templates.is_email(channels(self.app).get(key))
            context = notice_context(self.app, about, event.topic, event.payload or {}, locale, email=email)
            rendered = templates.render(session, event.topic, key, locale, context, email=email)
            payload = {
                "channel": key,
                "to": address,
                "locale": locale,
                "event": event.topic,
                "tenant": tenant.slug,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "attachments": [],
                "data": {},
                "params": {"tenant": tenant.name, "url": str(event.payload.get("url") or ""), "reason": str(event.payload.get("reason") or "")},
            }
            planned.append(PlannedDelivery(f"notification:{key}:staff:{user_id}", DeliveryKind.notification, key, payload, recipient=address[:200]))
        return planned

    def send(self, delivery: Delivery) -> SendResult:
        if has_app_context():
            return self._send(delivery)
        with self.app.app_context():
            return self._send(delivery)

    def _send(self, delivery: Delivery) -> SendResult:
        payload = delivery.payload
        try:
            send_payload(db.session, self.app, payload, message_id=delivery.message_id, tenant_slug=str(payload.get("tenant") or ""))
        except NotificationFailed as error:
            raise DeliveryFailed(str(error)[:500] or type(error).__name__, retryable=error.retryable) from None
        return SendResult(request={"channel": payload.get("channel"), "to": delivery.recipient, "subject": payload.get("subject")})

    def on_delivered(self, session: Session, delivery: Delivery) -> None:
        pass

    def on_dead(self, session: Session, delivery: Delivery) -> None:
        pass
