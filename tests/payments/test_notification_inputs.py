"""A signed sandbox notification with a bad field is refused at the field (422) and changes nothing, never a 500.

The signature proves the sandbox sent it, but its fields are still checked
before anything is stored: ids must fit their columns and hold no NUL, the
amount must be whole fen, the time must carry a UTC offset. Fields a provider
adds later are ignored, so unlike API request bodies an unknown field is not
refused.
"""

from __future__ import annotations

import json

import pytest
from bad_inputs import bad_inputs, case
from payment_setup import PRICE, book, booking_state, utcnow
from sqlalchemy import func, select

from yuyue.db import tenant_scope
from yuyue.payments.builtin import SANDBOX_NOTIFICATION, SIGNATURE_HEADER
from yuyue.payments.models import PaymentNotification
from yuyue.payments.providers import sign

NOTIFY = "/api/v1/t/museum/payments/sandbox/notify"
REFERENCE = "the-payment's-reference"
NOTIFICATION = {
    "id": "sbn_1",
    "event_type": "payment.succeeded",
    "out_trade_no": REFERENCE,
    "transaction_id": "sbt_1",
    "amount": PRICE,
    "currency": "CNY",
    "time": utcnow().isoformat(),
}
CASES = [
    *bad_inputs(SANDBOX_NOTIFICATION, NOTIFICATION),
    case("id: a NUL character", NOTIFICATION, "/id", id="sbn\x001"),
    case("time: year 9999 and a negative offset", NOTIFICATION, "/time", time="9999-12-31T23:59:59-14:00"),
    case("out_refund_no: too long", NOTIFICATION, "/out_refund_no", out_refund_no="r" * 65),
]


@pytest.fixture
def post_signed(client, sandbox):
    """``post_signed(body, reference)``: the body as the sandbox would sign and send it, for the payment ``reference``."""

    def post(body, reference: str):
        if isinstance(body, dict) and body.get("out_trade_no") == REFERENCE:
            body = {**body, "out_trade_no": reference}
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return client.post(NOTIFY, data=raw, headers={SIGNATURE_HEADER: f"sha256={sign(sandbox.secret, raw)}", "Content-Type": "application/json"})

    return post


@pytest.fixture
def held(session, tenant, entry, pay_for):
    booking = book(session, tenant, 1)
    return booking, pay_for(booking)


def notifications(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(func.count()).select_from(PaymentNotification))


def test_the_valid_notification_confirms_the_booking(session, tenant, held, post_signed):
    booking, payment = held

    response = post_signed(NOTIFICATION, payment.reference)

    assert response.get_json() == {"code": "SUCCESS", "outcome": "confirmed"}
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_a_field_the_sandbox_does_not_know_is_ignored(held, post_signed):
    _, payment = held

    assert post_signed({**NOTIFICATION, "promotion_detail": [{"coupon": "X"}]}, payment.reference).status_code == 200


@pytest.mark.parametrize("bad", CASES, ids=str)
def test_a_bad_field_is_refused_at_it_and_changes_nothing(session, tenant, held, post_signed, problem, bad):
    booking, payment = held

    body = problem(post_signed(bad.body, payment.reference), 422, "invalid_notification")

    assert bad.pointer in [e["pointer"] for e in body["errors"]], body["errors"]
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
    assert notifications(session, tenant) == 0


@pytest.mark.parametrize("raw", [b"{", b"\xff", b"[]", b"null"])
def test_a_signed_body_that_is_not_a_notification_is_refused(session, tenant, held, post_signed, problem, raw):
    booking, payment = held

    problem(post_signed(raw, payment.reference), 422, "invalid_notification")
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
