"""The shuttle vertical's settings, set by the operator, decide seats per booking, bookings per trip and phone, and when changes close."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from tenant_setup import phone
from verticals_setup import CONFIGURED, DEFAULTS, answers, at, post_booking

VEHICLE = "vehicle"
# The vertical's defaults without the phone quota per day, which would refuse a third booking on its own.
NO_DAILY_QUOTA = {"reschedule": {"max_per_booking": 1}}


@pytest.fixture
def trips(offer):
    offer(VEHICLE, policies=NO_DAILY_QUOTA)


def test_a_booking_takes_as_many_places_as_the_seats_it_asks_for(offer, set_settings, customer, booked, book, problem):
    offer(VEHICLE, policies=NO_DAILY_QUOTA, capacity=4)
    booked(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, seats=3))

    problem(book(customer(2), CONFIGURED, VEHICLE, answers(VEHICLE, 2, seats=2)), 409, "slot_full")


def test_a_booking_may_ask_for_up_to_the_seats_set_per_order(trips, set_settings, customer, booked, book, problem):
    set_settings(VEHICLE, max_seats_per_order=2)
    booked(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, seats=2))

    body = problem(book(customer(2), CONFIGURED, VEHICLE, answers(VEHICLE, 2, seats=3)), 422, "validation_failed")

    assert [(error["pointer"], error["code"]) for error in body["errors"]] == [("/answers/seats", "too_many_seats")]


def test_a_tenant_with_default_settings_allows_four_seats_per_order(trips, set_settings, customer, booked, book, problem):
    set_settings(VEHICLE, max_seats_per_order=2)
    booked(customer(1, DEFAULTS), DEFAULTS, VEHICLE, answers(VEHICLE, 1, seats=4))

    problem(book(customer(2, DEFAULTS), DEFAULTS, VEHICLE, answers(VEHICLE, 2, seats=5)), 422, "validation_failed")


def test_a_phone_books_one_trip_up_to_the_number_of_orders_set(trips, set_settings, client, booked, book, problem):
    set_settings(VEHICLE, max_orders_per_trip_per_phone=2)
    for _ in range(2):
        booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1))

    body = problem(book(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1)), 409, "orders_per_trip_exceeded")

    assert [error["pointer"] for error in body["errors"]] == ["/phone"]


def test_the_same_phone_may_book_another_trip(trips, set_settings, client, booked):
    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1))

    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1), hour=10)


def test_a_passenger_named_on_another_booking_counts_for_their_phone(trips, set_settings, client, booked, book, problem):
    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE, 1, mobile=phone(2)), phone=phone(1))

    problem(book(client, CONFIGURED, VEHICLE, answers(VEHICLE, 2), phone=phone(2)), 409, "orders_per_trip_exceeded")


def test_a_tenant_with_default_settings_allows_one_booking_per_trip_and_phone(trips, set_settings, client, booked, book, problem):
    set_settings(VEHICLE, max_orders_per_trip_per_phone=2)
    booked(client, DEFAULTS, VEHICLE, answers(VEHICLE), phone=phone(1))

    problem(book(client, DEFAULTS, VEHICLE, answers(VEHICLE), phone=phone(1)), 409, "orders_per_trip_exceeded")


def test_settings_the_operator_edits_apply_to_the_next_booking(trips, set_settings, client, booked, book, problem):
    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1))
    problem(book(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1)), 409, "orders_per_trip_exceeded")

    set_settings(VEHICLE, max_orders_per_trip_per_phone=2)

    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1))


@pytest.mark.skipif("postgresql" not in os.environ.get("YUYUE_TEST_DATABASE_URL", ""), reason="concurrent writers need PostgreSQL")
def test_concurrent_bookings_of_one_phone_on_one_trip_let_one_through(app, trips, set_settings, client, booked):
    booked(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1), hour=11)  # the account exists: nothing else serialises them
    attempts = 4
    start = threading.Barrier(attempts)
    statuses = []

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(post_booking(client, CONFIGURED, VEHICLE, answers(VEHICLE), phone=phone(1)).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (attempts - 1)


def _cancel(client, tenant, booking):
    return client.post(f"/api/v1/t/{tenant}/bookings/{booking['id']}/cancel", json={})


def _reschedule(client, tenant, booking, hour):
    return client.post(f"/api/v1/t/{tenant}/bookings/{booking['id']}/reschedule", json={"starts_at": at(hour).isoformat()})


@pytest.mark.parametrize(("minutes_before", "allowed"), [(20, True), (19, False)])
def test_cancelling_closes_the_minutes_set_before_departure(trips, set_settings, customer, booked, clock, problem, minutes_before, allowed):
    set_settings(VEHICLE, change_cutoff_minutes=20)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, VEHICLE, answers(VEHICLE), hour=10)
    clock(at(10) - timedelta(minutes=minutes_before))

    response = _cancel(alice, CONFIGURED, booking)

    if allowed:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["cancellation"]["terms"] == "on_time"
    else:
        problem(response, 409, "cancellation_closed")


@pytest.mark.parametrize(("minutes_before", "allowed"), [(20, True), (19, False)])
def test_rescheduling_closes_the_minutes_set_before_departure(trips, set_settings, customer, booked, clock, problem, minutes_before, allowed):
    set_settings(VEHICLE, change_cutoff_minutes=20)
    alice = customer(1)
    booking = booked(alice, CONFIGURED, VEHICLE, answers(VEHICLE), hour=10)
    clock(at(10) - timedelta(minutes=minutes_before))

    response = _reschedule(alice, CONFIGURED, booking, 11)

    if allowed:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["starts_at"] == at(11).isoformat()
    else:
        problem(response, 409, "reschedule_closed")


@pytest.mark.parametrize(("minutes_before", "allowed"), [(30, True), (29, False)])
def test_a_tenant_with_default_settings_closes_cancelling_thirty_minutes_before_departure(
    trips, set_settings, customer, booked, clock, problem, minutes_before, allowed
):
    set_settings(VEHICLE, change_cutoff_minutes=20)
    bob = customer(2, DEFAULTS)
    booking = booked(bob, DEFAULTS, VEHICLE, answers(VEHICLE, 2), hour=10)
    clock(at(10) - timedelta(minutes=minutes_before))

    response = _cancel(bob, DEFAULTS, booking)

    if allowed:
        assert response.status_code == 200, response.get_json()
    else:
        problem(response, 409, "cancellation_closed")


@pytest.mark.parametrize(("minutes_before", "allowed"), [(30, True), (29, False)])
def test_a_tenant_with_default_settings_closes_rescheduling_thirty_minutes_before_departure(
    trips, set_settings, customer, booked, clock, problem, minutes_before, allowed
):
    set_settings(VEHICLE, change_cutoff_minutes=20)
    bob = customer(2, DEFAULTS)
    booking = booked(bob, DEFAULTS, VEHICLE, answers(VEHICLE, 2), hour=10)
    clock(at(10) - timedelta(minutes=minutes_before))

    response = _reschedule(bob, DEFAULTS, booking, 11)

    if allowed:
        assert response.status_code == 200, response.get_json()
    else:
        problem(response, 409, "reschedule_closed")


def test_the_last_seats_of_a_trip_are_sold_and_one_more_is_refused(offer, set_settings, customer, booked, book, problem):
    offer(VEHICLE, policies=NO_DAILY_QUOTA, capacity=6)
    booked(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, seats=4))
    booked(customer(2), CONFIGURED, VEHICLE, answers(VEHICLE, 2, seats=2))

    problem(book(customer(3), CONFIGURED, VEHICLE, answers(VEHICLE, 3, seats=1)), 409, "slot_full")
