"""What the document-wide API tests (schemathesis, hostile inputs) seed: one tenant with a row of every kind and a token per security scheme.

Imported by name (``from api_setup import seed``): test folders are not packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session
from stdnum.cn import ric

from yuyue.api.auth import booking_token, customer_tokens
from yuyue.bookings import operations as bookings
from yuyue.bookings import waitlist
from yuyue.bookings.customer_account import save_companion
from yuyue.bookings.placement import Actor
from yuyue.bookings.reviews import send_feedback
from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.catalog.stops import create_stop
from yuyue.credits.operations import create_package
from yuyue.customers.models import BanSubject
from yuyue.customers.operations import ban, customer_for_phone
from yuyue.db import tenant_scope, write_transaction
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus
from yuyue.events.operations import emit
from yuyue.events.webhooks import create_endpoint
from yuyue.forms.registry import form_registry
from yuyue.observability.heartbeat import Heartbeat
from yuyue.payments.operations import payment_instructions
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant, create_token
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import StaffRole, TokenKind
from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
ID_NUMBER = "11010519900307001" + ric.calc_check_digit("11010519900307001?")
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}


@dataclass
class Seeded:
    """What requests aim at: path parameters naming real rows, body fields and query parameters that pass, a token per security scheme."""

    path_parameters: dict[str, object]
    values: dict[str, list[object]]
    tokens: dict[str, dict[str, str]]


def slot(hour: int) -> datetime:
    return datetime.combine((utcnow().astimezone(ZONE) + timedelta(days=7)).date(), time(hour), ZONE)


def seed(app: Flask, session: Session) -> Seeded:
    """Tenant ``tenant-a`` with a priced type (a held booking awaiting payment) and a free one whose only place is taken (a waitlist entry)."""
    tenant = create_tenant(session, plugin_host(), slug="tenant-a", name="Tenant A", plugins={"exhibition": {}, "course": {}})
    create_tenant(session, plugin_host(), slug="operated", name="Operated", plugins={"exhibition": {}})
    for slug, price, capacity in (("entry", 2000, 20), ("free", 0, 1)):
        windows = [{"start": f"{hour:02}:00", "end": f"{hour + 1:02}:00", "capacity": capacity} for hour in (9, 10)]
        create_booking_type(
            session,
            plugin_host(),
            form_registry(),
            current_registry(),
            tenant,
            vertical="exhibition",
            slug=slug,
            name={"en": slug},
            availability_rules=[{"type": "fixed_windows", "params": {"windows": windows}}],
            form=FORM,
            ui={"order": ["name"], "fields": {}},
            price_amount=price,
        )
    create_resource(session, tenant, kind="coach", code="coach-li", name={"en": "Coach Li"})
    # A stop under the same code as the coach, so the stop routes' ``code`` names a real stop of ``entry``.
    create_stop(session, tenant, "entry", code="coach-li", name={"en": "Coach Li's corner"})
    create_package(session, tenant, code="trial", name={"en": "Trial class"}, credits=1, actor="test")
    held = bookings.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=slot(9), phone="13800000001", answers={"name": "Ann"})
    payment = payment_instructions(session, held)
    confirmed = bookings.book(session, form_registry(), tenant, booking_type_slug="free", starts_at=slot(9), phone="13800000002", answers={"name": "Bo"})
    entry = waitlist.join(session, form_registry(), tenant, booking_type_slug="free", starts_at=slot(9), phone="13800000001", answers={"name": "Ann"})
    with tenant_scope(tenant.id):
        customer = customer_for_phone(session, "13800000001")
        companion = save_companion(session, customer, "Li Lei", ID_NUMBER)
        # Another customer's ban: the seeded customer must stay free to book.
        other = customer_for_phone(session, "13800000009")
        banned = ban(session, BanSubject.customer, other, 1, "seeded", utcnow())
        endpoint = create_endpoint(session, url="https://crm.example.com/hooks", topics=["booking.*"], actor="test")
        feedback = send_feedback(session, tenant, customer, comment="seeded feedback", now=utcnow(), actor=Actor("customer", customer.id))
        with write_transaction(session):
            event = emit(session, "booking.confirmed", {"booking": confirmed.public_id})
            session.flush()
            delivery = Delivery(
                message_id="msg_seeded",
                event_id=event.id,
                topic=event.topic,
                subscriber=f"webhook:{endpoint.id}",
                kind=DeliveryKind.webhook,
                target=str(endpoint.id),
                payload={"body": "{}"},
                status=DeliveryStatus.dead,
            )
            session.add(delivery)
    _, staff = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)
    _, operator = create_token(session, kind=TokenKind.operator, name="operator")
    # A worker running beside the server, so /api/v1/ready answers 200 (its 503 is a server error to schemathesis).
    Heartbeat(app).beat()
    with app.test_request_context():
        tokens = customer_tokens(customer)
        guest = booking_token(held)
    return Seeded(
        path_parameters={
            "tenant_slug": "tenant-a",
            "public_id": held.public_id,
            "slug": "entry",
            "code": "coach-li",
            "entry_id": entry.id,
            "companion_id": companion.id,
            "provider": "sandbox",
            "reference": payment["reference"],
            "package": "trial",
            "customer_id": customer.id,
            # a notification template: every tenant has one of each event, installed channel and locale
            "event": "booking.confirmed",
            "channel": "log",
            "locale": "en",
            "endpoint_id": endpoint.id,
            "delivery_id": delivery.id,
            "ban_id": banned.id,
            "feedback_id": feedback.id,
        },
        # Only values that would otherwise hardly ever be generated: a slug, a slot, a mobile, a valid ID number, a live token.
        values={
            "booking_type": ["entry", "free"],
            "starts_at": [slot(9).isoformat(), slot(10).isoformat()],
            # A date for the statistics; another customer's id for a merge into the seeded one.
            "from": [slot(9).date().isoformat(), other.id],
            "to": [slot(9).date().isoformat()],
            "answers": [{"name": "Ann"}],
            "url": ["https://crm.example.com/other-hooks"],
            "topics": [["booking.*", "payment.paid"]],
            "phone": ["13800000003"],
            "id_number": [ID_NUMBER],
            "refresh_token": [tokens["refresh_token"]],
            "vertical": ["exhibition", "course"],
            "code": [confirmed.voucher_code],
            "package": ["trial"],
        },
        tokens={
            "staffToken": {"Authorization": f"Bearer {staff}"},
            "operatorToken": {"Authorization": f"Bearer {operator}"},
            "customerToken": {"Authorization": f"Bearer {tokens['access_token']}"},
            "bookingToken": {"X-Booking-Token": guest},
        },
    )
