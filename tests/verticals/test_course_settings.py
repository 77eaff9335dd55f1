"""The course vertical's settings, set by the operator, decide late cancellations and the weekly class limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from verticals_setup import CONFIGURED, DEFAULTS, SLOT_DAY, answers, at

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
