"""The exhibition vertical's settings, set by the operator, decide people per account and day, minors per booking and late entry."""

from __future__ import annotations

import pytest
from verticals_setup import ADULT_BORN, CHILD_BORN, CONFIGURED, DEFAULTS, answers, at, companions

from yuyue.tenancy.models import StaffRole

EXHIBITION = "exhibition"


@pytest.fixture
def entry(offer):
    offer(EXHIBITION)


def visit(n: int = 1, *born) -> dict:
    return answers(EXHIBITION, n, companions=companions(*born))


def test_an_account_books_up_to_the_people_a_day_set(entry, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, max_persons_per_account_per_day=3)
    alice = customer(1)
    booked(alice, CONFIGURED, EXHIBITION, visit(1, ADULT_BORN))
    booked(alice, CONFIGURED, EXHIBITION, visit(1), hour=10)

    body = problem(book(alice, CONFIGURED, EXHIBITION, visit(1), hour=11), 409, "persons_limit_exceeded")

    assert [(error["pointer"], error["code"]) for error in body["errors"]] == [("/answers/companions", "persons_limit_exceeded")]


def test_a_tenant_with_default_settings_lets_an_account_book_five_people_a_day(entry, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, max_persons_per_account_per_day=3)
    bob = customer(2, DEFAULTS)
    booked(bob, DEFAULTS, EXHIBITION, visit(2, ADULT_BORN, ADULT_BORN))
    booked(bob, DEFAULTS, EXHIBITION, visit(2, ADULT_BORN), hour=10)

    problem(book(bob, DEFAULTS, EXHIBITION, visit(2), hour=11), 409, "persons_limit_exceeded")


def test_a_booking_type_with_its_own_people_a_day_keeps_it(offer, set_settings, customer, booked):
    offer(EXHIBITION, policies={"max_persons_per_account_per_day": 3})
    set_settings(EXHIBITION, max_persons_per_account_per_day=1)

    booked(customer(1), CONFIGURED, EXHIBITION, visit(1, ADULT_BORN, ADULT_BORN))


def test_a_booking_brings_up_to_the_minors_set(entry, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, max_minors_per_booking=1)
    booked(customer(1), CONFIGURED, EXHIBITION, visit(1, CHILD_BORN))

    body = problem(book(customer(2), CONFIGURED, EXHIBITION, visit(2, CHILD_BORN, CHILD_BORN)), 409, "too_many_minors")

    assert [error["pointer"] for error in body["errors"]] == ["/answers/companions/0/id_card", "/answers/companions/1/id_card"]


def test_a_tenant_with_default_settings_allows_three_minors(entry, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, max_minors_per_booking=1)
    booked(customer(1, DEFAULTS), DEFAULTS, EXHIBITION, visit(1, CHILD_BORN, CHILD_BORN, CHILD_BORN))

    problem(book(customer(2, DEFAULTS), DEFAULTS, EXHIBITION, visit(2, CHILD_BORN, CHILD_BORN, CHILD_BORN, CHILD_BORN)), 409, "too_many_minors")


@pytest.fixture
def check_in(staff_client, clock):
    """``check_in("tenant-a", booking, at(10, 15))``: staff scan the booking's voucher at that moment."""

    def scan(tenant: str, booking: dict, now):
        clock(now)
        return staff_client(tenant, StaffRole.manager).post(f"/api/v1/t/{tenant}/admin/check-ins", json={"code": booking["voucher"]["code"]})

    return scan


def test_late_entry_is_allowed_for_the_minutes_set_after_the_window(entry, set_settings, customer, booked, check_in, problem):
    set_settings(EXHIBITION, entry_grace_minutes=10)
    alice = customer(1)
    in_time = booked(alice, CONFIGURED, EXHIBITION, visit(1))
    too_late = booked(alice, CONFIGURED, EXHIBITION, visit(1))

    assert check_in(CONFIGURED, in_time, at(10, 10)).status_code == 200
    problem(check_in(CONFIGURED, too_late, at(10, 11)), 409, "slot_ended")


def test_a_tenant_with_default_settings_allows_half_an_hour_of_late_entry(entry, set_settings, customer, booked, check_in, problem):
    set_settings(EXHIBITION, entry_grace_minutes=10)
    bob = customer(2, DEFAULTS)
    in_time = booked(bob, DEFAULTS, EXHIBITION, visit(2))
    too_late = booked(bob, DEFAULTS, EXHIBITION, visit(2))

    assert check_in(DEFAULTS, in_time, at(10, 30)).status_code == 200
    problem(check_in(DEFAULTS, too_late, at(10, 31)), 409, "slot_ended")
