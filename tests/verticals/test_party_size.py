"""A party where the vertical allows one: ``party_size`` (or the vertical's own field, attendees or seats) gives the places.

Only a real-name form (everyone named with an ID number) fixes the headcount to the people named; any two counts
a request gives must agree (``party_size_mismatch``), and more places than the booking type's ``max_party_size``
are refused (``party_size_out_of_range``).
"""

from __future__ import annotations

import pytest
from tenant_setup import NAME_FORM, NAME_UI, make_booking_type, windows
from verticals_setup import ADULT_BORN, CONFIGURED, SLOT_DAY, answers, companions

from yuyue.provisioning.operations import get_tenant


def remaining(client, vertical: str, hour: int = 9) -> int:
    day = SLOT_DAY.isoformat()
    slots = client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{vertical}/availability?from={day}&to={day}").get_json()["slots"]
    return next(slot["remaining"] for slot in slots if slot["starts_at"].startswith(f"{day}T{hour:02d}:"))


def problems(body: dict) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


@pytest.mark.parametrize("vertical, field", [("activity", "attendees"), ("vehicle", "seats")])
def test_the_verticals_own_field_takes_its_places(offer, customer, booked, client, vertical, field):
    offer(vertical)

    booking = booked(customer(1), CONFIGURED, vertical, answers(vertical, 1, **{field: 4}))

    assert booking["party_size"] == 4
    assert remaining(client, vertical) == 16


@pytest.mark.parametrize("vertical, field", [("activity", "attendees"), ("vehicle", "seats")])
def test_a_party_size_that_agrees_with_the_verticals_field_is_accepted(offer, customer, booked, vertical, field):
    offer(vertical)

    assert booked(customer(1), CONFIGURED, vertical, answers(vertical, 1, **{field: 4}), party_size=4)["party_size"] == 4


@pytest.mark.parametrize("vertical, field", [("activity", "attendees"), ("vehicle", "seats")])
def test_a_party_size_that_disagrees_with_the_verticals_field_is_a_mismatch(offer, customer, book, problem, vertical, field):
    offer(vertical)

    body = problem(book(customer(1), CONFIGURED, vertical, answers(vertical, 1, **{field: 4}), party_size=3), 422, "validation_failed")

    assert problems(body) == [("/party_size", "party_size_mismatch")]


def test_a_form_that_names_only_the_booker_takes_the_party_size(offer, customer, booked, client):
    """The course form names the student without an ID number: a parent may book a class for three."""
    offer("course")

    assert booked(customer(1), CONFIGURED, "course", answers("course", 1), party_size=3)["party_size"] == 3
    assert remaining(client, "course") == 17


def test_a_vehicle_form_without_seats_takes_the_party_size(set_settings, session, customer, booked, client):
    make_booking_type(
        session, get_tenant(session, CONFIGURED), "vehicle", vertical="vehicle", rules=windows(("09:00", "10:00")), form=NAME_FORM, ui=NAME_UI, max_party_size=6
    )

    assert booked(customer(1), CONFIGURED, "vehicle", {"name": "Li Lei"}, party_size=3)["party_size"] == 3
    assert remaining(client, "vehicle") == 17


def test_the_party_can_reach_the_booking_types_maximum_and_not_pass_it(offer, customer, booked, book, problem):
    offer("course", max_party_size=10)

    assert booked(customer(1), CONFIGURED, "course", answers("course", 1), party_size=10)["party_size"] == 10
    body = problem(book(customer(2), CONFIGURED, "course", answers("course", 2), hour=10, party_size=11), 422, "validation_failed")

    assert problems(body) == [("/party_size", "party_size_out_of_range")]


def test_a_real_name_form_admits_exactly_the_people_it_names(offer, customer, booked, book, problem):
    offer("exhibition")
    named = answers("exhibition", 1, companions=companions(ADULT_BORN))

    body = problem(book(customer(1), CONFIGURED, "exhibition", named, party_size=3), 422, "validation_failed")

    assert problems(body) == [("/party_size", "party_size_mismatch")]
    assert booked(customer(1), CONFIGURED, "exhibition", named, party_size=2)["party_size"] == 2
