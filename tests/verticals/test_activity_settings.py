"""The event vertical's settings, set by the operator, decide attendees per booking, a required email and terms to accept."""

from __future__ import annotations

import pytest
from verticals_setup import CONFIGURED, DEFAULTS, answers

ACTIVITY = "activity"


@pytest.fixture
def sessions(offer):
    offer(ACTIVITY, max_party_size=20)


def problems(body: dict) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


def test_a_booking_takes_as_many_places_as_its_attendees(offer, set_settings, customer, booked, book, problem):
    offer(ACTIVITY, capacity=4, max_party_size=20)
    booked(customer(1), CONFIGURED, ACTIVITY, answers(ACTIVITY, 1, attendees=3))

    problem(book(customer(2), CONFIGURED, ACTIVITY, answers(ACTIVITY, 2, attendees=2)), 409, "slot_full")


def test_a_booking_brings_up_to_the_attendees_set(sessions, set_settings, customer, booked, book, problem):
    set_settings(ACTIVITY, max_attendees_per_booking=3)
    booked(customer(1), CONFIGURED, ACTIVITY, answers(ACTIVITY, 1, attendees=3))

    body = problem(book(customer(2), CONFIGURED, ACTIVITY, answers(ACTIVITY, 2, attendees=4)), 422, "validation_failed")

    assert problems(body) == [("/answers/attendees", "too_many_attendees")]


def test_a_tenant_with_default_settings_allows_five_attendees(sessions, set_settings, customer, booked, book, problem):
    set_settings(ACTIVITY, max_attendees_per_booking=3)
    booked(customer(1, DEFAULTS), DEFAULTS, ACTIVITY, answers(ACTIVITY, 1, attendees=5))

    problem(book(customer(2, DEFAULTS), DEFAULTS, ACTIVITY, answers(ACTIVITY, 2, attendees=6)), 422, "validation_failed")


def test_an_email_is_required_when_the_tenant_says_so(sessions, set_settings, customer, booked, book, problem):
    set_settings(ACTIVITY, require_email=True)
    alice = customer(1)

    body = problem(book(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY)), 422, "validation_failed")
    booked(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY, email="lilei@example.com"))

    assert problems(body) == [("/answers/email", "email_required")]


def test_a_tenant_with_default_settings_needs_no_email(sessions, set_settings, customer, booked):
    set_settings(ACTIVITY, require_email=True)

    booked(customer(1, DEFAULTS), DEFAULTS, ACTIVITY, answers(ACTIVITY))


def test_terms_set_by_the_tenant_must_be_accepted(sessions, set_settings, customer, booked, book, problem):
    set_settings(ACTIVITY, terms="Children under 12 come with an adult.")
    alice = customer(1)

    body = problem(book(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY)), 422, "validation_failed")
    booked(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY, consent=True))

    assert problems(body) == [("/answers/consent", "consent_required")]


def test_a_tenant_without_terms_asks_for_no_consent(sessions, set_settings, customer, booked):
    set_settings(ACTIVITY, terms="Children under 12 come with an adult.")

    booked(customer(1, DEFAULTS), DEFAULTS, ACTIVITY, answers(ACTIVITY))


def test_problems_of_every_setting_are_reported_together(sessions, set_settings, customer, book, problem):
    set_settings(ACTIVITY, max_attendees_per_booking=1, require_email=True, terms="Be on time.")

    body = problem(book(customer(1), CONFIGURED, ACTIVITY, answers(ACTIVITY, attendees=2)), 422, "validation_failed")

    assert {code for _, code in problems(body)} == {"too_many_attendees", "email_required", "consent_required"}
