"""The other notified events: a waitlist offer and its expiry, a refund sent, a webhook endpoint disabled (to the tenant's staff), and email's parts."""

from __future__ import annotations

import base64
from datetime import timedelta

import payment_setup
import pytest
from icalendar import Calendar
from notifying_setup import BERLIN, at, iso
from sqlalchemy import select
from tenant_setup import phone

from yuyue.bookings import operations as bookings
from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope, write_transaction
from yuyue.events import channel_settings
from yuyue.events.channels import channels
from yuyue.events.models import ChannelSettings, NotificationPreference
from yuyue.events.operations import emit
from yuyue.payments.builtin import send_sandbox_notification
from yuyue.payments.models import Refund
from yuyue.payments.operations import payment_instructions
from yuyue.payments.providers import payment_providers
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow


def test_a_waitlist_offer_tells_its_deadline_and_where_to_accept(client, session, gallery, entry_type, deliver, signed_in_customer):
    from tenant_setup import windows

    entry_type(gallery, rules=windows(("09:00", "10:00"), capacity=1))
    first = client.post(
        "/api/v1/t/gallery/bookings", json={"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "A"}, "phone": phone(1)}
    )
    waiting = signed_in_customer(2, tenant="gallery")
    joined = waiting.post("/api/v1/t/gallery/waitlist", json={"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "B"}})
    assert joined.status_code == 201, joined.get_json()
    deliver(gallery)
    bookings.cancel(session, gallery, first.get_json()["id"])
    offer = next(p for p in deliver(gallery) if p["event"] == "waitlist.offered")
    assert offer["to"] == phone(2)
    assert offer["subject"].startswith("A place is free: Visit on ")
    assert "is yours until " in offer["text"] and offer["text"].rstrip().endswith("/t/gallery/me/waitlist")

    waitlist.expire_offers(session, gallery, now=utcnow() + timedelta(days=1))
    [expired] = [p for p in deliver(gallery) if p["event"] == "waitlist.expired"]
    assert expired["subject"].startswith("Offer expired: Visit on ")


def test_a_refund_sent_tells_the_amount(app, client, session, deliver):
    tenant = payment_setup.make_tenant(session, "shop")
    payment_setup.make_priced_type(session, tenant)
    booking = payment_setup.book(session, tenant, 1)
    instructions = payment_instructions(session, booking)
    secret = payment_providers(app).settings("sandbox")["secret"]
    send_sandbox_notification(client, "shop", "payment.succeeded", instructions["reference"], secret=secret, amount=payment_setup.PRICE)
    bookings.cancel(session, tenant, booking.public_id)
    with tenant_scope(tenant.id):
        refund = session.scalar(select(Refund))
    send_sandbox_notification(
        client, "shop", "refund.succeeded", instructions["reference"], secret=secret, amount=payment_setup.PRICE, refund_reference=refund.reference
    )
    [refunded] = [p for p in deliver(tenant) if p["event"] == "payment.refund_succeeded"]
    assert refunded["subject"] == "已退款：¥20.00"  # the tenant speaks Chinese first
    assert refunded["to"] == phone(1)


def test_a_disabled_webhook_endpoint_is_told_to_the_tenants_owners_and_managers(app, session, gallery, deliver, log_messages):
    security = app.appbuilder.sm
    for username, role in (("olga", StaffRole.owner), ("max", StaffRole.manager), ("sam", StaffRole.staff)):
        add_staff_member(
            session, security, tenant_slug="gallery", username=username, role=role, email=f"{username}@gallery.example", password="pw-of-some-length"
        )
    with tenant_scope(gallery.id), write_transaction(session):
        emit(session, "webhook.endpoint_disabled", {"endpoint": 3, "url": "https://crm.example.com/hook", "reason": "HTTP 500 ten times"})
    sent = deliver(gallery)
    assert sorted(p["to"] for p in sent) == ["max@gallery.example", "olga@gallery.example"]
    assert {p["channel"] for p in sent} == {"log"}  # no email channel here
    assert sent[0]["subject"] == "Webhook endpoint disabled: https://crm.example.com/hook"
    assert sent[0]["text"] == "Gallery: webhook endpoint https://crm.example.com/hook was disabled: HTTP 500 ten times\n"


def test_a_muted_no_show_notice_is_not_sent_but_essential_ones_are(session, gallery, entry_type, deliver):
    entry_type(gallery)
    starts = at(9, zone=BERLIN)
    booking = bookings.book(
        session,
        __import__("yuyue.forms.registry", fromlist=["form_registry"]).form_registry(),
        gallery,
        booking_type_slug="entry",
        starts_at=starts,
        phone=phone(1),
        answers={"name": "Li"},
        now=utcnow(),
    )
    with tenant_scope(gallery.id), write_transaction(session):
        session.add(NotificationPreference(customer_id=booking.customer_id, channels_off=[], muted=["booking.no_show", "booking.reminder"]))
    assert [p["event"] for p in deliver(gallery)] == ["booking.confirmed"]
    bookings.mark_no_show(session, gallery, booking.public_id, now=starts + timedelta(hours=1))
    assert deliver(gallery) == []


# --- email ------------------------------------------------------------------------------------------


MAILBOX = '''
from yuyue import hookimpl


class Mailbox:
    """A channel that takes email addresses and keeps what it is handed."""

    key = "mailbox"
    address_kind = "email"
    sent = []

    def send(self, message):
        Mailbox.sent.append(message)


@hookimpl
def register_notification_channels():
    return [Mailbox()]
'''


@pytest.fixture
def mailbox_tenant(make_plugin, make_app, session):
    """An application with a channel that sends email (``mailbox``), and ``gallery`` with it turned on."""
    name = make_plugin("mailbox", MAILBOX)
    app = make_app(PLUGINS=None)
    with app.app_context():
        from yuyue.plugins import plugin_host
        from yuyue.provisioning.operations import create_tenant

        tenant = create_tenant(session, plugin_host(), slug="gallery", name="Gallery", time_zone="Europe/Berlin", locales=["en"], plugins={"exhibition": {}})
        with tenant_scope(tenant.id), write_transaction(session):
            session.add(ChannelSettings(channel="mailbox", enabled=True, config={}))
            session.add(ChannelSettings(channel="log", enabled=True, config={}))
        with tenant_scope(tenant.id):
            if "mailbox" not in channels(app) or "mailbox" not in channel_settings.enabled_channels(session, app):
                pytest.skip("the tenant's channel settings are the channels part's (enabled_channels is still its placeholder)")
        yield app, tenant, name


def test_an_email_carries_html_with_the_voucher_qr_and_an_ics_in_the_tenants_zone(mailbox_tenant, session):
    from yuyue.events.models import OutboxEvent
    from yuyue.notifying.notices import CustomerNotices

    app, tenant, _ = mailbox_tenant
    with app.app_context():
        from tenant_setup import make_booking_type, windows

        make_booking_type(session, tenant, "entry", rules=windows(("09:00", "10:00")))
        client = app.test_client()
        body = {"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "Li"}, "phone": phone(1)}
        booking = client.post("/api/v1/t/gallery/bookings", json=body).get_json()
        with tenant_scope(tenant.id), write_transaction(session):
            customer_id = session.scalar(select(Booking.customer_id).where(Booking.public_id == booking["id"]))
            session.add(NotificationPreference(customer_id=customer_id, email="li@example.com", channels_off=[], muted=[]))
        with tenant_scope(tenant.id):
            event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "booking.confirmed")).one()
            [email] = [p.payload for p in CustomerNotices(app).plan(session, event) if p.target == "mailbox"]
    assert email["to"] == "li@example.com"
    assert '<img src="data:image/png;base64,' in email["html"]
    [attachment] = email["attachments"]
    calendar = Calendar.from_ical(base64.b64decode(attachment["content_base64"]))
    [vevent] = calendar.walk("VEVENT")
    assert vevent.decoded("dtstart").tzinfo.key == "Europe/Berlin" and vevent.decoded("dtstart").hour == 9
    assert booking["voucher"]["code"] in email["text"]


def test_a_reminder_email_carries_its_one_click_unsubscribe_link(mailbox_tenant, session):
    from yuyue.events.models import OutboxEvent
    from yuyue.notifying.notices import CustomerNotices
    from yuyue.notifying.reminders import emit_due_reminders

    app, tenant, _ = mailbox_tenant
    with app.app_context():
        from tenant_setup import make_booking_type, windows

        make_booking_type(session, tenant, "entry", rules=windows(("09:00", "10:00")))
        body = {"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "Li", "note": "li@example.com"}, "phone": phone(1)}
        assert app.test_client().post("/api/v1/t/gallery/bookings", json=body).status_code == 201
        emit_due_reminders(session, now=at(9, zone=BERLIN) - timedelta(hours=24))
        with tenant_scope(tenant.id):
            event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "booking.reminder")).one()
            [email] = [p.payload for p in CustomerNotices(app).plan(session, event) if p.target == "mailbox"]
        assert email["to"] == "li@example.com"  # the email answered on the booking's form
        link = email["data"]["unsubscribe_url"]
        assert link.startswith("http://localhost:5000/t/gallery/unsubscribe/") and link in email["html"]
        assert app.test_client().post(link.removeprefix("http://localhost:5000")).status_code == 200
        with tenant_scope(tenant.id):
            assert CustomerNotices(app).plan(session, event) == []  # muted now, on every channel


class Inbox:
    """An aiosmtpd handler that keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, smtp_session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; yields (port, inbox)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_a_confirmation_arrives_at_a_real_smtp_server_in_the_customers_language_with_its_ics(app, client, session, gallery, entry_type, deliver, smtp_server):
    if "email" not in channels(app):
        pytest.skip("the email channel is the channels part's")
    port, inbox = smtp_server
    app.config["CHANNEL_PRIVATE_HOSTS"] = True  # the tenant's SMTP server is on loopback
    entry_type(gallery)
    with tenant_scope(gallery.id), write_transaction(session):
        session.add(
            ChannelSettings(
                channel="email", enabled=True, config={"host": "127.0.0.1", "port": port, "security": "none", "from_address": "shop@gallery.example"}
            )
        )
    body = {"booking_type": "entry", "starts_at": iso(9, zone=BERLIN), "answers": {"name": "Li", "note": "li@example.com"}, "phone": phone(1)}
    booking = client.post("/api/v1/t/gallery/bookings", json=body).get_json()
    deliver(gallery)
    [message] = inbox.messages
    assert message["To"] == "li@example.com"
    assert message["Subject"].startswith("Booking confirmed: Visit on ")
    assert booking["voucher"]["code"] in message.get_body(("plain",)).get_content()
    [ics] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    [vevent] = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert vevent.decoded("dtstart").tzinfo.key == "Europe/Berlin" and vevent.decoded("dtstart").hour == 9


def test_a_session_called_off_below_its_minimum_is_told_once_with_its_reason(session, gallery, entry_type, deliver):
    from yuyue.bookings.placement import SYSTEM, get_booking, log_change
    from yuyue.bookings.sessions import BELOW_MINIMUM
    from yuyue.forms.registry import form_registry

    entry_type(gallery)
    booking = bookings.book(session, form_registry(), gallery, booking_type_slug="entry", starts_at=at(9, zone=BERLIN), phone=phone(1), answers={"name": "Li"})
    deliver(gallery)
    # What the sessions job does for each booking of a session it calls off: a staff cancellation and its reason, in one transaction.
    with tenant_scope(gallery.id), write_transaction(session):
        bookings.cancel_with_terms(session, gallery, booking.public_id, actor=SYSTEM, reason=BELOW_MINIMUM, by_staff=True)
        log_change(session, get_booking(session, booking.public_id), SYSTEM, "booking.cancelled_below_minimum", {"minimum": 3, "participants": 1})
    [told] = deliver(gallery)
    assert told["event"] == "booking.cancelled_below_minimum"
    assert told["subject"].startswith("Called off: Visit on ")
