"""The scenic vertical's settings, set by the operator, decide people per account and day, minors per booking and groups."""

from __future__ import annotations

import pytest
from verticals_setup import ADULT_BORN, CHILD_BORN, CONFIGURED, DEFAULTS, answers, companions, group

SCENIC = "scenic"


@pytest.fixture
def entry(offer):
    """Room for the largest default group: a group takes a place per head."""
    offer(SCENIC, capacity=300, max_party_size=300)


def visit(n: int = 1, *born) -> dict:
    return answers(SCENIC, n, companions=companions(*born))


def problems(body: dict) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


def test_an_account_books_up_to_the_people_a_day_set(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, max_persons_per_account_per_day=3)
    alice = customer(1)
    booked(alice, CONFIGURED, SCENIC, visit(1, ADULT_BORN))
    booked(alice, CONFIGURED, SCENIC, visit(1), hour=10)

    problem(book(alice, CONFIGURED, SCENIC, visit(1), hour=11), 409, "persons_limit_exceeded")


def test_a_tenant_with_default_settings_lets_an_account_book_five_people_a_day(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, max_persons_per_account_per_day=3)
    bob = customer(2, DEFAULTS)
    booked(bob, DEFAULTS, SCENIC, visit(2, ADULT_BORN, ADULT_BORN))
    booked(bob, DEFAULTS, SCENIC, visit(2, ADULT_BORN), hour=10)

    problem(book(bob, DEFAULTS, SCENIC, visit(2), hour=11), 409, "persons_limit_exceeded")


def test_a_booking_brings_up_to_the_minors_set(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, max_minors_per_booking=1)
    booked(customer(1), CONFIGURED, SCENIC, visit(1, CHILD_BORN))

    problem(book(customer(2), CONFIGURED, SCENIC, visit(2, CHILD_BORN, CHILD_BORN)), 409, "too_many_minors")


def test_a_tenant_with_default_settings_allows_three_minors(entry, set_settings, customer, booked):
    set_settings(SCENIC, max_minors_per_booking=1)

    booked(customer(1, DEFAULTS), DEFAULTS, SCENIC, visit(1, CHILD_BORN, CHILD_BORN, CHILD_BORN))


def test_a_group_has_at_least_the_size_set(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, group_min_size=5)
    booked(customer(1), CONFIGURED, SCENIC, group(5))

    body = problem(book(customer(2), CONFIGURED, SCENIC, group(4)), 422, "validation_failed")

    assert problems(body) == [("/answers/group_size", "group_too_small")]


def test_a_tenant_with_default_settings_needs_fifteen_for_a_group(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, group_min_size=5)
    booked(customer(1, DEFAULTS), DEFAULTS, SCENIC, group(15))

    body = problem(book(customer(2, DEFAULTS), DEFAULTS, SCENIC, group(14)), 422, "validation_failed")

    assert problems(body) == [("/answers/group_size", "group_too_small")]


def test_a_group_has_at_most_the_size_set(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, group_max_size=20)
    booked(customer(1), CONFIGURED, SCENIC, group(20))

    body = problem(book(customer(2), CONFIGURED, SCENIC, group(21)), 422, "validation_failed")

    assert problems(body) == [("/answers/group_size", "group_too_large")]


def test_a_tenant_with_default_settings_takes_groups_of_two_hundred(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, group_max_size=20)
    booked(customer(1, DEFAULTS), DEFAULTS, SCENIC, group(200))

    body = problem(book(customer(2, DEFAULTS), DEFAULTS, SCENIC, group(201)), 422, "validation_failed")

    assert problems(body) == [("/answers/group_size", "group_too_large")]


def test_a_group_names_its_guide_licence_when_the_tenant_requires_one(entry, set_settings, customer, booked, book, problem):
    set_settings(SCENIC, group_requires_guide_licence=True)

    body = problem(book(customer(1), CONFIGURED, SCENIC, group(15)), 422, "validation_failed")
    booked(customer(2), CONFIGURED, SCENIC, group(15, guide_licence="D-3101-001234"))

    assert problems(body) == [("/answers/guide_licence", "guide_licence_required")]


def test_a_tenant_with_default_settings_takes_groups_without_a_guide_licence(entry, set_settings, customer, booked):
    set_settings(SCENIC, group_requires_guide_licence=True)

    booked(customer(1, DEFAULTS), DEFAULTS, SCENIC, group(15))


def test_an_individual_visitor_gives_no_guide_licence(entry, customer, book, problem):
    body = problem(book(customer(1), CONFIGURED, SCENIC, answers(SCENIC, guide_licence="D-3101-001234")), 422, "validation_failed")

    assert problems(body) == [("/answers/guide_licence", "not_applicable")]
