"""Opening a payment: which provider, what the customer is told, one open payment per booking."""

from __future__ import annotations

from payment_setup import PRICE, book, booking_state, fresh, make_priced_type

from yuyue.bookings import operations as ops
from yuyue.bookings.placement import Actor
from yuyue.errors import InvalidInput, Refused
from yuyue.payments.models import Payment
from yuyue.payments.operations import payment_instructions, payment_summary, record_offline_payment, set_payment_provider
from yuyue.payments.providers import payment_providers


def test_a_held_booking_gets_sandbox_instructions_to_pay_before_the_hold_ends(session, tenant, entry):
    booking = book(session, tenant, 1)
    instructions = payment_instructions(session, booking)
    assert instructions["provider"] == "sandbox"
    assert instructions["kind"] == "redirect"
    assert (instructions["amount"], instructions["currency"], instructions["status"]) == (PRICE, "CNY", "pending")
    assert instructions["pay_by"] == booking.hold_expires_at.isoformat()
    assert instructions["params"]["notify_url"].endswith("/api/v1/t/museum/payments/sandbox/notify")
    assert instructions["pay_url"].endswith(f"/payments/sandbox/checkout/{instructions['reference']}")


def test_asking_twice_opens_one_payment(session, tenant, entry):
    booking = book(session, tenant, 1)
    first, second = payment_instructions(session, booking), payment_instructions(session, booking)
    assert first == second
    assert len(fresh(session, tenant, Payment)) == 1


def test_notify_url_uses_the_public_url_when_configured(app, session, tenant, entry):
    app.config["PUBLIC_URL"] = "https://book.example.cn/"
    instructions = payment_instructions(session, book(session, tenant, 1))
    assert instructions["params"]["notify_url"] == "https://book.example.cn/api/v1/t/museum/payments/sandbox/notify"


def test_a_free_booking_has_nothing_to_pay(session, tenant):
    make_priced_type(session, tenant, "free", price=0)
    booking = book(session, tenant, 1, slug="free")
    assert booking.status.value == "confirmed"
    assert payment_instructions(session, booking) is None


def test_a_paid_or_cancelled_booking_has_nothing_to_pay(session, tenant, entry, sandbox, pay_for):
    paid = book(session, tenant, 1)
    sandbox.notify(pay_for(paid))
    assert payment_instructions(session, paid) is None
    cancelled = ops.cancel(session, tenant, book(session, tenant, 2).public_id)
    assert payment_instructions(session, cancelled) is None


def test_a_booking_type_may_take_payment_at_the_counter(session, tenant, entry):
    make_priced_type(session, tenant, "tour", hold_minutes=0)
    set_payment_provider(session, tenant, "offline", booking_type_slug="tour")
    booking = book(session, tenant, 1, slug="tour")
    assert booking.status.value == "confirmed"  # no hold: the visitor pays on arrival
    instructions = payment_instructions(session, booking)
    assert (instructions["provider"], instructions["kind"]) == ("offline", "offline")
    assert instructions["message"]["en"] == "Pay at the counter on arrival"
    assert payment_instructions(session, book(session, tenant, 2))["provider"] == "sandbox"  # other types keep the default


def test_the_tenant_default_applies_to_every_booking_type_without_its_own(session, tenant, entry):
    set_payment_provider(session, tenant, "offline")
    assert payment_instructions(session, book(session, tenant, 1))["provider"] == "offline"


def test_an_unknown_provider_is_invalid_input(session, tenant, entry):
    try:
        set_payment_provider(session, tenant, "paypal")
    except InvalidInput as error:
        assert error.errors[0].pointer == "/provider"
    else:
        raise AssertionError("paypal was accepted")


def test_staff_record_a_counter_payment_which_confirms_the_hold(session, tenant, entry):
    set_payment_provider(session, tenant, "offline")
    booking = book(session, tenant, 1)
    payment = record_offline_payment(session, tenant, booking.public_id, actor=Actor("staff", 7))
    assert payment.provider_txn == "offline:staff:7"
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert payment_summary(session, booking) == {"paid": PRICE, "refunded": 0, "currency": "CNY", "refunds": []}


def test_a_counter_payment_needs_an_offline_payment(session, tenant, entry):
    booking = book(session, tenant, 1)
    try:
        record_offline_payment(session, tenant, booking.public_id, actor=Actor("staff", 7))
    except Refused as error:
        assert error.code == "nothing_to_pay"
    else:
        raise AssertionError("a sandbox payment was taken at the counter")


def test_application_settings_choose_the_default_provider(make_app, session):
    from yuyue.db import db

    app = make_app(PAYMENT_PROVIDER="offline", PAYMENT_PROVIDERS={"offline": {"message": "现场付款"}})
    with app.app_context():
        from payment_setup import make_tenant

        tenant = make_tenant(db.session)
        make_priced_type(db.session, tenant)
        instructions = payment_instructions(db.session, book(db.session, tenant, 1))
        assert (instructions["provider"], instructions["message"]) == ("offline", "现场付款")
        assert payment_providers(app).default_key == "offline"
