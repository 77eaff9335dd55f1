"""Places by headcount, daily caps and availability that tells the truth, through the customer API.

Each reason a slot is listed not bookable is shown next to the code a booking
of it is refused with; each cap at its boundary (the N-th place passes, the
N+1-th is refused).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from customer_api_setup import ANSWERS, SLOT_DAY, at, iso, phone
from sqlalchemy import select
from tenant_setup import make_coach

from yuyue.catalog.operations import create_resource
from yuyue.db import tenant_scope, write_transaction
from yuyue.provisioning.operations import get_tenant
from yuyue.scheduling import holidays
from yuyue.scheduling.models import DayInventory, SlotInventory

A = "/api/v1/t/tenant-a"


def slots(client, slug: str = "entry", day: date = SLOT_DAY) -> dict[tuple[str, str], dict]:
    """The slots of ``day`` by (start, channel)."""
    body = client.get(f"{A}/booking-types/{slug}/availability?from={day}&to={day}").get_json()
    return {(slot["starts_at"], slot["channel"]): slot for slot in body["slots"]}


def post_booking(client, hour: int = 9, minute: int = 0, *, slug: str = "entry", n: int = 1, guest: int | None = None, day: date = SLOT_DAY, **fields):
    body = {"booking_type": slug, "starts_at": iso(hour, minute, day), "answers": dict(ANSWERS), "party_size": n, **fields}
    if guest is not None:
        body["phone"] = phone(guest)
    return client.post(f"{A}/bookings", json=body)


def capped(per_slot: int = 5, **cap) -> list[dict]:
    """09:00-10:00 and 10:00-11:00 of ``per_slot`` places each, under a daily cap of ``cap`` (``capacity``, ``by_channel``)."""
    windows = [{"start": "09:00", "end": "10:00", "capacity": per_slot}, {"start": "10:00", "end": "11:00", "capacity": per_slot}]
    return [{"type": "fixed_windows", "params": {"windows": windows}}, {"type": "daily_cap", "params": cap}]


# --- places by headcount -----------------------------------------------------------------


def test_a_party_takes_as_many_places_as_it_has_people_and_gives_them_back_on_cancel(client, make_type, alice, problem):
    make_type(capacity=6, max_party_size=6)
    placed = post_booking(alice, n=4).get_json()
    assert slots(client)[iso(9), "default"]["remaining"] == 2
    problem(post_booking(client, n=3, guest=7), 409, "slot_full")
    assert post_booking(client, n=2, guest=8).status_code == 201

    assert alice.post(f"{A}/bookings/{placed['id']}/cancel").status_code == 200
    assert slots(client)[iso(9), "default"]["remaining"] == 4


def test_a_reschedule_moves_the_whole_party(client, make_type, alice, problem):
    make_type(capacity=6, max_party_size=6)
    placed = post_booking(alice, n=5).get_json()
    other = post_booking(client, 10, n=2, guest=7).get_json()
    problem(alice.post(f"{A}/bookings/{placed['id']}/reschedule", json={"starts_at": iso(10)}), 409, "slot_full")
    assert [s["remaining"] for s in slots(client).values()] == [1, 4]

    client.post(f"{A}/bookings/{other['id']}/cancel", headers={"X-Booking-Token": other["booking_token"]})
    assert alice.post(f"{A}/bookings/{placed['id']}/reschedule", json={"starts_at": iso(10)}).status_code == 200
    assert [s["remaining"] for s in slots(client).values()] == [6, 1]


# --- each reason and its refusal code ----------------------------------------------------


def test_a_sold_out_slot_refuses_with_slot_full(client, make_type, problem):
    make_type(capacity=2)
    assert post_booking(client, n=2, guest=1).status_code == 201
    slot = slots(client)[iso(9), "default"]
    assert (slot["remaining"], slot["bookable"], slot["reason"]) == (0, False, "sold_out")
    problem(post_booking(client, guest=2), 409, "slot_full")


def test_a_slot_not_yet_released_says_when_it_opens_and_refuses_with_booking_not_open(client, make_type, problem):
    window = {"type": "booking_window", "params": {"opens_days_ahead": 3, "release_time": "17:00", "closes_minutes_before": 0}}
    make_type(rules=[{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": 5}]}}, window])
    slot = slots(client)[iso(9), "default"]
    assert (slot["bookable"], slot["reason"], slot["opens_at"]) == (False, "not_released", iso(17, day=SLOT_DAY - timedelta(days=3)))
    problem(post_booking(client, guest=1), 409, "booking_not_open")


def test_a_slot_whose_window_has_closed_refuses_with_booking_closed(client, make_type, problem):
    window = {"type": "booking_window", "params": {"opens_days_ahead": 30, "release_time": "00:00", "closes_minutes_before": 527040}}
    make_type(rules=[{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": 5}]}}, window])
    slot = slots(client)[iso(9), "default"]
    assert (slot["bookable"], slot["reason"], slot["opens_at"]) == (False, "closed", None)
    problem(post_booking(client, guest=1), 409, "booking_closed")


def test_a_slot_called_off_is_closed_and_refuses_with_slot_closed(client, session, make_type, problem):
    make_type(capacity=5)
    assert post_booking(client, guest=1).status_code == 201
    with tenant_scope(get_tenant(session, "tenant-a").id), write_transaction(session):
        session.scalars(select(SlotInventory).where(SlotInventory.starts_at == at(9))).one().closed_reason = "below_minimum"
    slot = slots(client)[iso(9), "default"]
    assert (slot["remaining"], slot["bookable"], slot["reason"]) == (0, False, "closed")
    problem(post_booking(client, guest=2), 409, "slot_closed")
    assert slots(client)[iso(10), "default"]["bookable"]


def test_a_day_cap_sells_its_last_place_then_refuses_with_daily_cap_reached(client, session, make_type, problem):
    make_type(rules=capped(5, capacity=7), max_party_size=5)
    assert post_booking(client, 9, n=4, guest=1).status_code == 201
    assert slots(client)[iso(10), "default"]["remaining"] == 3  # 5 in the slot, 3 left of the day
    problem(post_booking(client, 10, n=4, guest=2), 409, "daily_cap_reached")
    assert post_booking(client, 10, n=3, guest=3).status_code == 201  # the 7th place of the day

    listed = slots(client)
    assert [(s["remaining"], s["bookable"], s["reason"]) for s in listed.values()] == [(0, False, "daily_cap"), (0, False, "daily_cap")]
    problem(post_booking(client, 9, guest=4), 409, "daily_cap_reached")
    with tenant_scope(get_tenant(session, "tenant-a").id):
        assert session.execute(select(DayInventory.scope, DayInventory.capacity, DayInventory.taken)).all() == [("*", 7, 7)]


def test_a_cancellation_gives_its_places_back_to_the_day(client, make_type, problem):
    make_type(rules=capped(5, capacity=6), max_party_size=5)
    placed = post_booking(client, 9, n=5, guest=1).get_json()
    post_booking(client, 10, n=1, guest=2)
    problem(post_booking(client, 10, guest=3), 409, "daily_cap_reached")

    assert client.post(f"{A}/bookings/{placed['id']}/cancel", headers={"X-Booking-Token": placed["booking_token"]}).status_code == 200
    assert slots(client)[iso(10), "default"]["remaining"] == 4
    assert post_booking(client, 10, n=4, guest=3).status_code == 201


def test_a_move_within_a_full_day_needs_no_day_place(client, make_type):
    make_type(rules=capped(5, capacity=5), max_party_size=5)
    placed = post_booking(client, 9, n=5, guest=1).get_json()
    moved = client.post(f"{A}/bookings/{placed['id']}/reschedule", json={"starts_at": iso(10)}, headers={"X-Booking-Token": placed["booking_token"]})
    assert moved.status_code == 200, moved.get_json()
    assert [s["remaining"] for s in slots(client).values()] == [0, 0]


def test_a_channels_day_cap_holds_that_channel_only(client, make_type, problem):
    split = [{"start": "09:00", "end": "10:00", "capacity": 10}, {"start": "10:00", "end": "11:00", "capacity": 10}]
    rules = [
        {"type": "fixed_windows", "params": {"windows": split, "capacity_by_channel": {"group": 4}}},
        {"type": "daily_cap", "params": {"by_channel": {"group": 5}}},
    ]
    # A vertical that leaves channels to the slot rules (the exhibition's groups must say they are one).
    make_type(rules=rules, max_party_size=5, vertical="course")
    assert post_booking(client, 9, n=4, guest=1, channel="group").status_code == 201
    assert post_booking(client, 10, n=1, guest=2, channel="group").status_code == 201
    problem(post_booking(client, 10, guest=3, channel="group"), 409, "daily_cap_reached")

    listed = slots(client)
    assert (listed[iso(10), "group"]["reason"], listed[iso(10), "default"]["bookable"]) == ("daily_cap", True)
    assert post_booking(client, 10, n=5, guest=4).status_code == 201


def test_a_holiday_throttle_scales_the_day_cap_as_it_scales_the_slots(client, make_type, problem):
    throttle = {"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": 0.5, "applies_to": "rest_days"}}
    make_type(rules=[*capped(10, capacity=8), throttle], max_party_size=10)
    days = [SLOT_DAY + timedelta(days=n) for n in range(14)]
    rest_day = next(day for day in days if holidays.is_rest_day(day, "CN"))
    workday = next(day for day in days if not holidays.is_rest_day(day, "CN"))

    assert [(s["capacity"], s["remaining"]) for s in slots(client, day=rest_day).values()] == [(5, 4), (5, 4)]  # 10 → 5 a slot, 8 → 4 a day
    assert post_booking(client, 9, n=4, guest=1, day=rest_day).status_code == 201
    problem(post_booking(client, 10, guest=2, day=rest_day), 409, "daily_cap_reached")
    assert [(s["capacity"], s["remaining"]) for s in slots(client, day=workday).values()] == [(10, 8), (10, 8)]
    assert post_booking(client, 9, n=5, guest=3, day=workday).status_code == 201
    assert post_booking(client, 10, n=3, guest=4, day=workday).status_code == 201
    problem(post_booking(client, 10, guest=5, day=workday), 409, "daily_cap_reached")


# --- resources -----------------------------------------------------------------------------


@pytest.fixture
def coach(session):
    return make_coach(session, get_tenant(session, "tenant-a"))


def test_a_scheduled_group_class_holds_its_coach_before_its_first_booking(client, make_type, coach, problem):
    one_hour = [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": 8}]}}]
    make_type("group-class", vertical="course", rules=one_hour, resource_requirements=[{"kind": "coach"}])
    lesson = [{"type": "fixed_windows", "params": {"windows": [{"start": "09:30", "end": "10:30", "capacity": 1}]}}]
    make_type("private-lesson", vertical="course", rules=lesson, resource_requirements=[{"kind": "coach", "per": "booking"}])

    private = slots(client, "private-lesson")[iso(9, 30), "default"]
    assert (private["bookable"], private["reason"]) == (False, "resource_busy")
    problem(post_booking(client, 9, 30, slug="private-lesson", guest=1), 409, "resource_conflict")
    group = slots(client, "group-class")[iso(9), "default"]
    assert (group["remaining"], group["bookable"]) == (8, True)
    assert post_booking(client, slug="group-class", guest=2).status_code == 201


def test_a_class_whose_coach_is_taken_by_another_class_is_resource_busy(client, make_type, coach, problem):
    one_hour = [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": 8}]}}]
    make_type("yoga", vertical="course", rules=one_hour, resource_requirements=[{"kind": "coach"}])
    make_type("pilates", vertical="course", rules=one_hour, resource_requirements=[{"kind": "coach"}])

    assert slots(client, "yoga")[iso(9), "default"]["bookable"]
    assert slots(client, "pilates")[iso(9), "default"]["reason"] == "resource_busy"
    problem(post_booking(client, slug="pilates", guest=1), 409, "resource_conflict")


def test_the_channels_of_a_slot_share_its_gate(client, session, make_type, problem):
    tenant = get_tenant(session, "tenant-a")
    create_resource(session, tenant, kind="gate", code="gate-east", name={"zh-Hans": "东门检票口", "en": "East gate"})
    split = [{"start": "09:00", "end": "10:00", "capacity": 6}]
    make_type(
        rules=[{"type": "fixed_windows", "params": {"windows": split, "capacity_by_channel": {"individual": 4, "group": 2}}}],
        resource_requirements=[{"kind": "gate"}],
        vertical="course",  # leaves channels to the slot rules
    )

    assert post_booking(client, guest=1, channel="individual").status_code == 201
    listed = slots(client)
    assert (listed[iso(9), "group"]["bookable"], listed[iso(9), "group"]["remaining"]) == (True, 2)
    assert post_booking(client, n=2, guest=2, channel="group").status_code == 201
    problem(post_booking(client, guest=3, channel="group"), 409, "slot_full")


# --- the waitlist ----------------------------------------------------------------------------


def join(client, n: int):
    response = client.post(f"{A}/waitlist", json={"booking_type": "entry", "starts_at": iso(9), "answers": dict(ANSWERS), "party_size": n})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_waitlist_offers_a_freed_place_only_to_a_request_that_fits(client, make_type, alice, bob, signed_in_customer, problem):
    make_type(capacity=4, max_party_size=4)
    first = post_booking(alice, n=2).get_json()
    second = post_booking(client, n=2, guest=9).get_json()
    carol = signed_in_customer(3)
    four, two = join(bob, 4), join(carol, 2)

    alice.post(f"{A}/bookings/{first['id']}/cancel")  # 2 free: Bob's 4 do not fit, Carol's 2 do
    problem(bob.post(f"{A}/waitlist/{four['id']}/accept"), 409, "no_offer")
    carol.delete(f"{A}/waitlist/{two['id']}")  # Carol declines: her 2 are free again, still not 4
    problem(bob.post(f"{A}/waitlist/{four['id']}/accept"), 409, "no_offer")

    client.post(f"{A}/bookings/{second['id']}/cancel", headers={"X-Booking-Token": second["booking_token"]})
    accepted = bob.post(f"{A}/waitlist/{four['id']}/accept")  # Bob kept his place in the queue
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["party_size"] == 4
    assert slots(client)[iso(9), "default"]["remaining"] == 0
