"""``plugin_api.active_bookings``: the one read helper plugins count a booker's bookings with."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tenant_setup import phone
from verticals_setup import CONFIGURED, SLOT_DAY, answers, at

from yuyue.db import tenant_scope
from yuyue.plugin_api import active_bookings
from yuyue.provisioning.operations import get_tenant


@pytest.fixture
def counted(session):
    """``counted(**filters)``: public ids of tenant-a's active bookings matching ``filters``."""

    def count(**filters):
        session.expire_all()
        with tenant_scope(get_tenant(session, CONFIGURED).id):
            return {booking.public_id for booking in active_bookings(session, **filters)}

    return count


@pytest.fixture
def shuttles_and_classes(offer):
    offer("vehicle", policies={})
    offer("course", policies={})


def test_a_cancelled_booking_is_not_active(shuttles_and_classes, customer, booked, counted):
    alice = customer(1)
    kept = booked(alice, CONFIGURED, "course", answers("course"))
    cancelled = booked(alice, CONFIGURED, "course", answers("course"), hour=10)
    alice.post(f"/api/v1/t/{CONFIGURED}/bookings/{cancelled['id']}/cancel", json={})

    assert counted(customer_id=alice.customer.id) == {kept["id"]}


def test_a_phone_matches_the_booker_and_a_person_the_booking_names(shuttles_and_classes, client, booked, counted):
    own = booked(client, CONFIGURED, "vehicle", answers("vehicle", 1), phone=phone(1))
    named = booked(client, CONFIGURED, "vehicle", answers("vehicle", 1), phone=phone(2))
    booked(client, CONFIGURED, "vehicle", answers("vehicle", 3), phone=phone(3))

    assert counted(phone=phone(1)) == {own["id"], named["id"]}


def test_filters_by_vertical_booking_type_slot_start_and_dates(shuttles_and_classes, customer, booked, counted):
    alice = customer(1)
    shuttle = booked(alice, CONFIGURED, "vehicle", answers("vehicle"))
    later_shuttle = booked(alice, CONFIGURED, "vehicle", answers("vehicle"), hour=10)
    next_day = booked(alice, CONFIGURED, "course", answers("course"), day=SLOT_DAY + timedelta(days=1))

    assert counted(vertical="vehicle") == {shuttle["id"], later_shuttle["id"]}
    assert counted(starts_at=at(9)) == {shuttle["id"]}
    assert counted(local_dates=[SLOT_DAY + timedelta(days=1)]) == {next_day["id"]}
    assert counted(vertical="course", local_dates=[SLOT_DAY]) == set()
