"""Changing a booking type's rules reaches the slots already booked: capacity grows, shrinks or goes, and a queue gets new places first."""

from __future__ import annotations

import pytest
from merchant_setup import SLOT_DAY, at, windows
from sqlalchemy import select

from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from yuyue.db import tenant_scope
from yuyue.errors import Refused
from yuyue.forms.registry import form_registry
from yuyue.scheduling.models import SlotInventory

TYPES = "/api/v1/t/tenant-a/admin/booking-types"


def nine_oclock(client) -> dict:
    """The 09:00 slot of the slot day as customers see it."""
    day = SLOT_DAY.isoformat()
    slots = client.get(f"/api/v1/t/tenant-a/booking-types/entry/availability?from={day}&to={day}").get_json()["slots"]
    return next(slot for slot in slots if slot["starts_at"].startswith(f"{day}T09:00"))


def statuses(session, tenant_of) -> list[BookingStatus]:
    with tenant_scope(tenant_of("tenant-a").id):
        return list(session.scalars(select(Booking.status).order_by(Booking.id)))


def test_raising_the_capacity_of_a_booked_slot_sells_the_new_places(manager, client, make_type, book):
    make_type("tenant-a", rules=windows(("09:00", "11:00"), capacity=2))
    book("tenant-a", at(9), "13800000001")
    book("tenant-a", at(9), "13800000002")
    assert (nine_oclock(client)["capacity"], nine_oclock(client)["remaining"]) == (2, 0)

    response = manager.patch(f"{TYPES}/entry", json={"availability_rules": windows(("09:00", "11:00"), capacity=5)})

    assert response.status_code == 200, response.get_json()
    assert (nine_oclock(client)["capacity"], nine_oclock(client)["remaining"]) == (5, 3)
    assert book("tenant-a", at(9), "13800000003").status is BookingStatus.confirmed


def test_places_added_to_a_full_slot_go_to_its_queue_first(session, manager, client, make_type, book, tenant_of):
    make_type("tenant-a", rules=windows(("09:00", "11:00"), capacity=1))
    book("tenant-a", at(9), "13800000001")
    tenant = tenant_of("tenant-a")
    entry = waitlist.join(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone="13800000002", answers={"name": "Wu"})

    manager.patch(f"{TYPES}/entry", json={"availability_rules": windows(("09:00", "11:00"), capacity=2)})

    with tenant_scope(tenant.id):
        assert session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.id == entry.id)) is WaitlistStatus.offered
    assert (nine_oclock(client)["capacity"], nine_oclock(client)["remaining"]) == (2, 0)


def test_lowering_capacity_below_what_is_sold_keeps_the_bookings_and_sells_no_more(session, manager, client, make_type, book, tenant_of):
    make_type("tenant-a", rules=windows(("09:00", "11:00"), capacity=3))
    book("tenant-a", at(9), "13800000001")
    book("tenant-a", at(9), "13800000002")

    manager.patch(f"{TYPES}/entry", json={"availability_rules": windows(("09:00", "11:00"), capacity=1)})

    assert (nine_oclock(client)["capacity"], nine_oclock(client)["remaining"]) == (1, 0)
    with pytest.raises(Refused) as refused:
        book("tenant-a", at(9), "13800000003")
    assert refused.value.code == "slot_full"
    assert statuses(session, tenant_of) == [BookingStatus.confirmed, BookingStatus.confirmed]


def test_a_slot_the_rules_no_longer_make_sells_nothing_and_keeps_its_bookings(session, manager, client, make_type, book, tenant_of, problem):
    make_type("tenant-a", rules=windows(("09:00", "11:00"), ("14:00", "16:00"), capacity=3))
    booking = book("tenant-a", at(9), "13800000001")

    manager.patch(f"{TYPES}/entry", json={"availability_rules": windows(("14:00", "16:00"), capacity=3)})

    body = {"booking_type": "entry", "starts_at": at(9).isoformat(), "phone": "13800000002", "answers": {"name": "Late"}}
    refused = problem(client.post("/api/v1/t/tenant-a/bookings", json=body), 422, "validation_failed")
    assert [(e["pointer"], e["code"]) for e in refused["errors"]] == [("/starts_at", "no_such_slot")]
    assert statuses(session, tenant_of) == [BookingStatus.confirmed]
    with tenant_scope(tenant_of("tenant-a").id):
        assert session.scalar(select(SlotInventory.capacity).where(SlotInventory.id == booking.inventory_id)) == 0


def test_a_changed_daily_cap_reaches_the_days_already_booked(session, manager, client, make_type, book, tenant_of):
    capped = [*windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=5), {"type": "daily_cap", "params": {"capacity": 3}}]
    make_type("tenant-a", rules=capped)
    for n in range(3):
        book("tenant-a", at(9), f"1380000000{n + 1}")
    with pytest.raises(Refused) as refused:
        book("tenant-a", at(10), "13800000009")
    assert refused.value.code == "daily_cap_reached"

    raised = [*capped[:1], {"type": "daily_cap", "params": {"capacity": 4}}]
    assert manager.patch(f"{TYPES}/entry", json={"availability_rules": raised}).status_code == 200
    assert (nine_oclock(client)["remaining"], nine_oclock(client)["reason"]) == (1, None)
    book("tenant-a", at(10), "13800000009")  # the 4th place of the day
    assert nine_oclock(client)["reason"] == "daily_cap"

    assert manager.patch(f"{TYPES}/entry", json={"availability_rules": capped[:1]}).status_code == 200  # the cap is gone
    assert nine_oclock(client)["remaining"] == 2  # 3 of the slot's 5 sold
    book("tenant-a", at(9), "13800000010")
    assert manager.patch(f"{TYPES}/entry", json={"availability_rules": capped}).status_code == 200  # back at 3, below the 5 sold
    assert (nine_oclock(client)["remaining"], nine_oclock(client)["reason"]) == (0, "daily_cap")
