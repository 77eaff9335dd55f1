"""The operations the customer API added: idempotent booking with a receipt, cancelling with terms, a customer's
bookings newest first, waitlist actions limited to the entry's customer, and form problems told apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from customer_api_setup import ANSWERS, at, phone

from yuyue.bookings import operations as ops
from yuyue.bookings import waitlist
from yuyue.bookings.models import BookingStatus, WaitlistStatus
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.errors import Conflict, InvalidInput, NotFound
from yuyue.forms.registry import form_registry
from yuyue.forms.validation import InvalidAnswers
from yuyue.types import utcnow


@pytest.fixture
def tenant(tenants):
    return tenants["tenant-a"]


def book_once(session, tenant, key: str | None = "key-1", who: int = 1, hour: int = 9, may_replay=lambda booking: True, **options):
    return ops.book_once(
        session,
        form_registry(),
        tenant,
        booking_type_slug="entry",
        starts_at=at(hour),
        phone=phone(who),
        answers=dict(ANSWERS),
        idempotency_key=key,
        may_replay=may_replay,
        **options,
    )


def customer(session, tenant, n: int):
    with tenant_scope(tenant.id):
        return customer_for_phone(session, phone(n))


def test_book_once_says_whether_the_booking_is_new(session, tenant, entry):
    first = book_once(session, tenant)
    again = book_once(session, tenant)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.booking.id == first.booking.id


def test_book_once_without_a_key_always_books(session, tenant, entry):
    first, second = book_once(session, tenant, key=None), book_once(session, tenant, key=None)

    assert not first.replayed and not second.replayed
    assert first.booking.id != second.booking.id


def test_book_once_refuses_a_key_sent_again_by_another_phone(session, tenant, entry):
    book_once(session, tenant, who=1)

    with pytest.raises(Conflict) as refused:
        book_once(session, tenant, who=2)

    assert refused.value.code == "idempotency_key_reused"


def test_book_once_refuses_a_retry_by_a_caller_it_may_not_replay_to(session, tenant, entry):
    book_once(session, tenant, who=1)

    with pytest.raises(Conflict) as refused:
        book_once(session, tenant, who=1, may_replay=lambda booking: False)

    assert refused.value.code == "idempotency_key_reused"


def test_book_once_answers_a_retry_after_the_booking_moved(session, tenant, entry):
    first = book_once(session, tenant, hour=9)
    ops.reschedule(session, form_registry(), tenant, first.booking.public_id, starts_at=at(10))

    assert book_once(session, tenant, hour=9).booking.id == first.booking.id


def test_cancel_with_terms_returns_the_terms_it_applied(session, tenant, make_type):
    make_type(policies={"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 3}}})
    booking = book_once(session, tenant).booking

    cancellation = ops.cancel_with_terms(session, tenant, booking.public_id, reason="ill")

    assert cancellation.booking.status is BookingStatus.cancelled
    assert (cancellation.terms.late, cancellation.terms.points, cancellation.terms.code) == (True, 3, "late_deduct_points")


def test_cancel_with_terms_on_time_has_no_penalty(session, tenant, entry):
    booking = book_once(session, tenant).booking

    terms = ops.cancel_with_terms(session, tenant, booking.public_id).terms

    assert (terms.late, terms.points, terms.fee_percent, terms.code) == (False, 0, 0, "on_time")


def test_customer_bookings_are_newest_first_and_continue_before_an_id(session, tenant, entry):
    made = [book_once(session, tenant, key=None, who=1).booking.id for _ in range(3)]
    book_once(session, tenant, key=None, who=2)
    alice = customer(session, tenant, 1)

    first = ops.customer_bookings(session, tenant, alice, limit=2)
    rest = ops.customer_bookings(session, tenant, alice, before_id=first[-1].id, limit=2)

    assert [b.id for b in first + rest] == made[::-1]


def test_waitlist_actions_can_be_limited_to_the_entrys_customer(session, tenant, make_type):
    make_type(capacity=1)
    held = book_once(session, tenant, who=1).booking
    entry = waitlist.join(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(2), answers=dict(ANSWERS))
    ops.cancel(session, tenant, held.public_id)
    stranger, waiter = customer(session, tenant, 3), customer(session, tenant, 2)

    with pytest.raises(NotFound):
        waitlist.accept_offer(session, tenant, entry.id, customer=stranger)
    with pytest.raises(NotFound):
        waitlist.leave(session, tenant, entry.id, customer=stranger)
    booking = waitlist.accept_offer(session, tenant, entry.id, customer=waiter, now=utcnow() + timedelta(minutes=1))

    assert booking.customer_id == waiter.id
    assert entry.status is WaitlistStatus.accepted


def test_form_problems_are_invalid_answers_and_slot_problems_are_not(session, tenant, entry):
    with pytest.raises(InvalidAnswers) as form_problem:
        ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(1), answers={})
    with pytest.raises(InvalidInput) as slot_problem:
        ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9, 30), phone=phone(1), answers=dict(ANSWERS))

    assert [e.pointer for e in form_problem.value.errors] == ["/name"]
    assert not isinstance(slot_problem.value, InvalidAnswers)
