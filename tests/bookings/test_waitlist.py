"""Waitlist: queue when full, offers held for a time, each freed place to exactly one person."""

from datetime import timedelta

import pytest
from booking_setup import NOW, at, make_booking_type, make_tenant, phone, windows
from sqlalchemy import select

from yuyue.bookings import operations as ops
from yuyue.bookings import waitlist
from yuyue.bookings.models import BookingStatus, WaitlistStatus
from yuyue.db import tenant_scope
from yuyue.errors import Conflict, Refused
from yuyue.forms.registry import form_registry
from yuyue.scheduling.models import SlotInventory


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def full_slot(session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=1))
    return ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(1), answers={"name": "A"}, now=NOW)


def join(session, tenant, n, **kwargs):
    return waitlist.join(
        session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(n), answers={"name": f"W{n}"}, now=NOW, **kwargs
    )


def taken(session, tenant):
    with tenant_scope(tenant.id):
        return session.scalar(select(SlotInventory.taken).execution_options(populate_existing=True))


def test_joining_a_slot_with_free_places_is_refused(session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=5))
    with pytest.raises(Conflict) as refused:
        join(session, tenant, 2)
    assert refused.value.code == "slot_not_full"


def test_joining_twice_is_refused(session, tenant, full_slot):
    join(session, tenant, 2)
    with pytest.raises(Conflict) as refused:
        join(session, tenant, 2)
    assert refused.value.code == "already_waiting"


def test_offer_time_comes_from_the_booking_type_policies(session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=1), policies={"waitlist": {"offer_minutes": 20}})
    booking = ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(1), answers={"name": "A"}, now=NOW)
    entry = join(session, tenant, 2)
    ops.cancel(session, tenant, booking.public_id, now=NOW)
    with tenant_scope(tenant.id):
        session.refresh(entry)
    assert entry.offer_expires_at == NOW + timedelta(minutes=20)


def test_a_freed_place_is_offered_to_the_first_in_line_and_held(session, tenant, full_slot):
    first, second = join(session, tenant, 2), join(session, tenant, 3)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    with tenant_scope(tenant.id):
        session.refresh(first)
        session.refresh(second)
    assert (first.status, second.status) == (WaitlistStatus.offered, WaitlistStatus.waiting)
    assert first.offer_expires_at == NOW + timedelta(minutes=waitlist.DEFAULT_OFFER_MINUTES)
    assert taken(session, tenant) == 1  # the offer holds the place
    with pytest.raises(Refused, match="full"):
        ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(9), answers={"name": "X"}, now=NOW)


def test_accepting_an_offer_books_the_held_place(session, tenant, full_slot):
    entry = join(session, tenant, 2)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    booking = waitlist.accept_offer(session, tenant, entry.id, now=NOW + timedelta(minutes=5))
    assert booking.status is BookingStatus.confirmed
    assert taken(session, tenant) == 1


def test_an_expired_offer_passes_to_the_next_in_line(session, tenant, full_slot):
    first, second = join(session, tenant, 2), join(session, tenant, 3)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    later = NOW + timedelta(minutes=waitlist.DEFAULT_OFFER_MINUTES + 1)
    assert [e.id for e in waitlist.expire_offers(session, tenant, now=later)] == [first.id]
    with tenant_scope(tenant.id):
        session.refresh(second)
    assert second.status is WaitlistStatus.offered
    with pytest.raises(Conflict) as refused:
        waitlist.accept_offer(session, tenant, first.id, now=later)
    assert refused.value.code == "no_offer"
    assert taken(session, tenant) == 1


def test_accepting_after_the_offer_ran_out_is_refused(session, tenant, full_slot):
    entry = join(session, tenant, 2)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    with pytest.raises(Conflict) as refused:
        waitlist.accept_offer(session, tenant, entry.id, now=NOW + timedelta(hours=2))
    assert refused.value.code == "offer_expired"


def test_opted_in_waiter_is_booked_at_once(session, tenant, full_slot):
    entry = join(session, tenant, 2, auto_confirm=True)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    with tenant_scope(tenant.id):
        session.refresh(entry)
    assert entry.status is WaitlistStatus.accepted and entry.booking_id is not None


def test_leaving_with_an_offer_passes_the_place_on(session, tenant, full_slot):
    first, second = join(session, tenant, 2), join(session, tenant, 3)
    ops.cancel(session, tenant, full_slot.public_id, now=NOW)
    waitlist.leave(session, tenant, first.id, now=NOW)
    with tenant_scope(tenant.id):
        session.refresh(second)
    assert second.status is WaitlistStatus.offered
    assert taken(session, tenant) == 1


def test_an_expired_hold_promotes_the_waitlist(session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=1), price_amount=100, hold_minutes=10)
    ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(1), answers={"name": "A"}, now=NOW)
    entry = join(session, tenant, 2, auto_confirm=True)
    ops.expire_holds(session, tenant, now=NOW + timedelta(minutes=11))
    with tenant_scope(tenant.id):
        session.refresh(entry)
    assert entry.status is WaitlistStatus.accepted
