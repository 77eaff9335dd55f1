"""The course vertical's settings, set by the operator, decide late cancellations, the weekly class limit and the waitlist's cut-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from verticals_setup import CONFIGURED, DEFAULTS, SLOT_DAY, answers, at

from yuyue.tenancy.models import StaffRole

COURSE = "course"


@pytest.fixture
def classes(offer):
    offer(COURSE)


def cancel(client, tenant: str, booking: dict):
    return client.post(f"/api/v1/t/{tenant}/bookings/{booking['id']}/cancel", json={})


def test_cancelling_up_to_the_deadline_set_in_hours_is_on_time(classes, set_settings, customer, booked, clock):
    set_settings(COURSE, cancellation_deadline_hours=1, late_cancel_points=3)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    clock(at(9))

    cancelled = cancel(alice, CONFIGURED, booking)

    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["cancellation"]["terms"] == "on_time"
    assert cancelled.get_json()["cancellation"]["points_deducted"] == 0


def test_cancelling_after_the_deadline_costs_the_points_set(classes, set_settings, customer, booked, clock):
    set_settings(COURSE, cancellation_deadline_hours=1, late_cancel_points=3)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    clock(at(9, 1))

    cancelled = cancel(alice, CONFIGURED, booking).get_json()["cancellation"]

    assert (cancelled["terms"], cancelled["late"], cancelled["points_deducted"]) == ("late_deduct_points", True, 3)


def test_a_tenant_with_default_settings_is_late_six_hours_before_and_loses_one_point(classes, set_settings, customer, booked, clock):
    set_settings(COURSE, cancellation_deadline_hours=1, late_cancel_points=3)
    bob = customer(2, DEFAULTS)
    on_time = booked(bob, DEFAULTS, COURSE, answers(COURSE, 2), hour=10)
    late = booked(bob, DEFAULTS, COURSE, answers(COURSE, 2), hour=11)
    clock(at(4))
    first = cancel(bob, DEFAULTS, on_time).get_json()["cancellation"]
    clock(at(5, 1))
    second = cancel(bob, DEFAULTS, late).get_json()["cancellation"]

    assert (first["terms"], first["points_deducted"]) == ("on_time", 0)
    assert (second["terms"], second["points_deducted"]) == ("late_deduct_points", 1)


def test_a_booking_type_with_its_own_cancellation_policy_keeps_it(offer, set_settings, customer, booked, clock):
    offer(COURSE, policies={"cancellation": {"deadline_hours": 2, "late": {"action": "deduct_points", "points": 7}}})
    set_settings(COURSE, cancellation_deadline_hours=1, late_cancel_points=3)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)
    clock(at(8, 30))

    cancelled = cancel(alice, CONFIGURED, booking).get_json()["cancellation"]

    assert (cancelled["terms"], cancelled["points_deducted"]) == ("late_deduct_points", 7)


def test_a_student_books_up_to_the_weekly_limit_and_no_more(classes, set_settings, customer, booked, book, problem):
    set_settings(COURSE, max_bookings_per_week=2)
    alice = customer(1)
    booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=9)
    booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)

    body = problem(book(alice, CONFIGURED, COURSE, answers(COURSE), hour=11), 409, "weekly_limit_reached")

    assert [error["pointer"] for error in body["errors"]] == ["/starts_at"]


def test_the_weekly_limit_starts_again_on_monday(classes, set_settings, customer, booked):
    set_settings(COURSE, max_bookings_per_week=1)
    alice = customer(1)
    booked(alice, CONFIGURED, COURSE, answers(COURSE))
    next_monday = SLOT_DAY + timedelta(days=7 - SLOT_DAY.weekday())

    booked(alice, CONFIGURED, COURSE, answers(COURSE), day=next_monday)


def test_a_cancelled_class_does_not_count_towards_the_weekly_limit(classes, set_settings, customer, booked):
    set_settings(COURSE, max_bookings_per_week=1)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE))
    cancel(alice, CONFIGURED, booking)

    booked(alice, CONFIGURED, COURSE, answers(COURSE), hour=10)


def test_a_tenant_with_default_settings_allows_more_classes_a_week(classes, set_settings, customer, booked):
    set_settings(COURSE, max_bookings_per_week=2)
    bob = customer(2, DEFAULTS)

    for hour in (9, 10, 11):
        booked(bob, DEFAULTS, COURSE, answers(COURSE, 2), hour=hour)


def test_a_student_at_the_weekly_limit_may_move_a_class_within_the_week(classes, set_settings, customer, booked):
    set_settings(COURSE, max_bookings_per_week=1)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, COURSE, answers(COURSE))

    moved = alice.post(f"/api/v1/t/{CONFIGURED}/bookings/{booking['id']}/reschedule", json={"starts_at": at(10).isoformat()})

    assert moved.status_code == 200, moved.get_json()


def test_the_weekly_limit_counts_classes_from_monday_to_sunday(classes, set_settings, customer, booked, book, problem):
    set_settings(COURSE, max_bookings_per_week=2)
    alice = customer(1)
    monday = SLOT_DAY - timedelta(days=SLOT_DAY.weekday())
    booked(alice, CONFIGURED, COURSE, answers(COURSE), day=monday)
    booked(alice, CONFIGURED, COURSE, answers(COURSE), day=monday + timedelta(days=6))

    problem(book(alice, CONFIGURED, COURSE, answers(COURSE), day=monday + timedelta(days=2)), 409, "weekly_limit_reached")
    booked(alice, CONFIGURED, COURSE, answers(COURSE), day=monday + timedelta(days=7))


# --- the waitlist's cut-off -----------------------------------------------------------


@pytest.fixture
def one_place(offer):
    offer(COURSE, capacity=1)


@pytest.fixture
def waiting_clock(clock, monkeypatch):
    """Like ``clock``, for the waitlist's operations too."""

    def set_now(now):
        clock(now)
        monkeypatch.setattr("yuyue.bookings.waitlist.utcnow", lambda: now)

    return set_now


def join_waitlist(client, tenant: str, n: int, hour: int = 10, **fields):
    body = {"booking_type": COURSE, "starts_at": at(hour).isoformat(), "answers": answers(COURSE, n), **fields}
    return client.post(f"/api/v1/t/{tenant}/waitlist", json=body)


def a_full_class_with_a_waiter(customer, booked, tenant: str = CONFIGURED, **waiting) -> tuple:
    alice, bob = customer(1, tenant), customer(2, tenant)
    booking = booked(alice, tenant, COURSE, answers(COURSE), hour=10)
    entry = join_waitlist(bob, tenant, 2, **waiting)
    assert entry.status_code == 201, entry.get_json()
    return alice, booking, bob, entry.get_json()


def accept(client, tenant: str, entry: dict):
    return client.post(f"/api/v1/t/{tenant}/waitlist/{entry['id']}/accept")


def test_hook_waitlist_closes_at_keeps_a_place_freed_after_the_cutoff_from_the_waitlist(one_place, set_settings, customer, booked, clock, problem):
    set_settings(COURSE, waitlist_cutoff_hours=3)
    alice, booking, bob, entry = a_full_class_with_a_waiter(customer, booked)
    clock(at(7, 1))

    cancel(alice, CONFIGURED, booking)

    problem(accept(bob, CONFIGURED, entry), 409, "no_offer")
    booked(customer(3), CONFIGURED, COURSE, answers(COURSE, 3), hour=10)  # the place is free for anyone who can come


def test_a_place_freed_at_the_cutoff_is_still_offered(one_place, set_settings, customer, booked, clock):
    set_settings(COURSE, waitlist_cutoff_hours=3)
    alice, booking, bob, entry = a_full_class_with_a_waiter(customer, booked)
    clock(at(7))

    cancel(alice, CONFIGURED, booking)

    assert accept(bob, CONFIGURED, entry).status_code == 201


def test_the_default_cutoff_is_two_hours_and_a_tenant_may_set_none(one_place, set_settings, customer, booked, clock, problem):
    set_settings(COURSE, waitlist_cutoff_hours=0)
    carol, late_booking, dave, late_entry = a_full_class_with_a_waiter(customer, booked, DEFAULTS)
    alice, booking, bob, entry = a_full_class_with_a_waiter(customer, booked)
    clock(at(8, 1))

    cancel(carol, DEFAULTS, late_booking)
    cancel(alice, CONFIGURED, booking)

    problem(accept(dave, DEFAULTS, late_entry), 409, "no_offer")
    assert accept(bob, CONFIGURED, entry).status_code == 201


def test_joining_the_waitlist_after_the_cutoff_is_refused(one_place, set_settings, customer, booked, waiting_clock, problem):
    booked(customer(1), CONFIGURED, COURSE, answers(COURSE), hour=10)
    waiting_clock(at(8, 1))

    problem(join_waitlist(customer(2), CONFIGURED, 2), 409, "waitlist_closed")


def test_a_waiter_booked_at_once_without_credits_is_offered_the_place_instead(one_place, set_settings, customer, booked, clock, problem, staff_client):
    set_settings(COURSE, pay_with_credits=True)
    manager = staff_client(CONFIGURED, StaffRole.manager)
    assert manager.post(f"/api/v1/t/{CONFIGURED}/admin/packages", json={"code": "trial", "name": "体验课", "credits": 1}).status_code == 201
    alice = customer(1)
    assert alice.post(f"/api/v1/t/{CONFIGURED}/me/credits", json={"package": "trial"}).status_code == 201
    alice, booking, bob, entry = a_full_class_with_a_waiter(customer, booked, auto_confirm=True)
    clock(at(4))

    cancel(alice, CONFIGURED, booking)  # the cancellation goes through although Bob cannot pay

    problem(accept(bob, CONFIGURED, entry), 409, "insufficient_credits")
    assert bob.post(f"/api/v1/t/{CONFIGURED}/me/credits", json={"package": "trial"}).status_code == 201
    assert accept(bob, CONFIGURED, entry).status_code == 201
