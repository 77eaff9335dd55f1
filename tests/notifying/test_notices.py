"""Customer notices: a booking's changes reach its customer on the tenant's channels, in the customer's language, rendered once at fan-out."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from notifying_setup import BERLIN, SLOT_DAY, at, iso, subject_of, text_of
from sqlalchemy import select
from tenant_setup import phone

from yuyue.bookings import operations as bookings
from yuyue.db import tenant_scope
from yuyue.events.models import NotificationPreference
from yuyue.notifying.notices import CustomerNotices


def book(client, tenant, hour=9, n=1):
    response = client.post(
        f"/api/v1/t/{tenant.slug}/bookings",
        json={"booking_type": "entry", "starts_at": iso(hour, zone=ZoneInfo(tenant.time_zone)), "answers": {"name": "Li Lei"}, "phone": phone(n)},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_booking_confirmed_over_http_reaches_the_customer_in_english_with_the_right_subject(client, gallery, entry_type, deliver, log_messages):
    entry_type(gallery)
    booking = book(client, gallery)
    [payload] = deliver(gallery)
    [message] = log_messages()
    day = f"{SLOT_DAY:%b} {SLOT_DAY.day}, {SLOT_DAY.year}"
    assert subject_of(message) == f"Booking confirmed: Visit on {day} 09:00"
    assert message.to == phone(1) and message.locale == "en"
    assert text_of(message) == f"Gallery: Visit on {day} 09:00 is confirmed. Voucher code {booking['voucher']['code']}\n"  # the short text: log, SMS
    assert payload["event"] == "booking.confirmed" and payload["html"] is None  # the log channel is not email


def test_a_tenant_that_speaks_chinese_first_tells_its_customers_in_chinese(client, museum, entry_type, deliver, log_messages):
    entry_type(museum)
    book(client, museum)
    deliver(museum)
    [message] = log_messages()
    assert subject_of(message).startswith("预约成功：参观，")
    assert message.locale == "zh-Hans"
    assert "核销码" in text_of(message)


def test_a_paid_booking_is_first_held_with_the_time_to_pay_by_and_the_pay_link(client, gallery, entry_type, deliver, log_messages):
    entry_type(gallery, price_amount=5000)
    booking = book(client, gallery)
    [payload] = deliver(gallery)
    assert payload["event"] == "booking.held"
    assert payload["subject"].startswith("Pay by ")
    assert f"/t/gallery/bookings/{booking['id']}/pay" in payload["text"]


def test_a_hold_paid_before_it_was_told_is_told_only_as_confirmed(client, session, gallery, entry_type, deliver):
    entry_type(gallery, price_amount=5000)
    booking = book(client, gallery)
    bookings.confirm(session, gallery, booking["id"])
    assert [payload["event"] for payload in deliver(gallery)] == ["booking.confirmed"]


def test_links_use_the_public_address_of_the_installation(make_app, session, entry_type):
    app = make_app(PUBLIC_URL="https://book.example.com/")
    with app.app_context():
        from yuyue.plugins import plugin_host
        from yuyue.provisioning.operations import create_tenant

        tenant = create_tenant(session, plugin_host(), slug="gallery", name="Gallery", locales=["en"], plugins={"exhibition": {}})
        entry_type(tenant, price_amount=5000)
        booking = book(app.test_client(), tenant)
        [payload] = _plan_all(app, session, tenant)
    assert f"https://book.example.com/t/gallery/bookings/{booking['id']}/pay" in payload["text"]


def _plan_all(app, session, tenant):
    from yuyue.events.models import OutboxEvent

    notices = CustomerNotices(app)
    with tenant_scope(tenant.id):
        return [dict(p.payload) for event in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all() for p in notices.plan(session, event)]


def test_a_cancellation_tells_the_terms_applied(app, client, gallery, entry_type, deliver, session):
    entry_type(gallery, policies={"cancellation": {"deadline_hours": 24 * 365, "late": {"action": "deduct_points", "points": 5}}})
    booking = book(client, gallery)
    deliver(gallery)
    bookings.cancel(session, gallery, booking["id"])
    [payload] = deliver(gallery)
    assert payload["event"] == "booking.cancelled"
    assert "It was cancelled after the deadline." in payload["text"]
    assert "5 points were deducted." in payload["text"]


def test_a_rescheduled_booking_tells_the_old_and_the_new_time(app, client, gallery, entry_type, deliver, session):
    from yuyue.forms.registry import form_registry

    entry_type(gallery)
    booking = book(client, gallery)
    deliver(gallery)
    bookings.reschedule(session, form_registry(), gallery, booking["id"], starts_at=at(10, zone=BERLIN))
    [payload] = deliver(gallery)
    assert payload["event"] == "booking.rescheduled"
    assert payload["subject"].startswith("Booking moved to ") and payload["subject"].endswith(" 10:00")
    assert " 09:00 to " in payload["text"] and payload["text"].count(" 10:00") == 1


def test_a_customer_who_turned_a_channel_off_hears_nothing_on_it(client, gallery, entry_type, deliver, session):
    entry_type(gallery)
    book(client, gallery)
    from yuyue.customers.operations import customer_for_phone
    from yuyue.db import write_transaction

    with tenant_scope(gallery.id), write_transaction(session):
        customer = customer_for_phone(session, phone(1))
        session.add(NotificationPreference(customer_id=customer.id, channels_off=["log"], muted=[]))
    assert deliver(gallery) == []


def test_every_event_of_a_booking_is_planned_once_per_customer_and_channel(app, client, gallery, entry_type, session):
    entry_type(gallery)
    book(client, gallery)
    from yuyue.events.models import OutboxEvent

    notices = CustomerNotices(app)
    with tenant_scope(gallery.id):
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "booking.confirmed")).one()
        first, again = notices.plan(session, event), notices.plan(session, event)
    assert [p.subscriber for p in first] == [p.subscriber for p in again]
    assert len(first) == 1 and first[0].subscriber.startswith("notification:log:")
    assert first[0].recipient.startswith("138") and "*" in first[0].recipient
