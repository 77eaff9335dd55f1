"""Ticket types through the merchant API: set when a booking type is created or changed, checked field by field."""

from __future__ import annotations

import pytest

TYPES = "/api/v1/t/tenant-a/admin/booking-types"
ADULT = {"key": "adult", "name": {"zh-Hans": "成人票", "en": "Adult"}, "price_amount": 6000}
CHILD = {"key": "child", "name": {"zh-Hans": "儿童票", "en": "Child"}, "price_amount": 3000, "min_age": 6, "max_age": 17}
STUDENT = {"key": "student", "name": "学生票", "price_amount": 3000, "proof": {"zh-Hans": "学生证", "en": "Student card"}}


def problems(body: dict) -> set[tuple[str, str]]:
    return {(error["pointer"], error["code"]) for error in body["errors"]}


def test_a_booking_type_is_created_with_its_ticket_types_and_shows_them(manager):
    response = manager.post(TYPES, json={"vertical": "exhibition", "slug": "entry", "name": "Entry", "ticket_types": [ADULT, CHILD, STUDENT]})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["ticket_types"] == manager.get(f"{TYPES}/entry").get_json()["ticket_types"] == [ADULT, CHILD, STUDENT]


def test_ticket_types_are_changed_all_at_once_and_can_be_removed(manager, make_type):
    make_type("tenant-a", "entry", ticket_types=[ADULT])

    changed = manager.patch(f"{TYPES}/entry", json={"ticket_types": [ADULT, CHILD]}).get_json()
    removed = manager.patch(f"{TYPES}/entry", json={"ticket_types": []}).get_json()

    assert (changed["ticket_types"], removed["ticket_types"]) == ([ADULT, CHILD], [])


@pytest.mark.parametrize(
    "ticket_types, expected",
    [
        ([ADULT, {**CHILD, "key": "adult"}], {("/ticket_types/1/key", "duplicate_key")}),
        ([{**ADULT, "price_amount": -1}], {("/ticket_types/0/price_amount", "minimum")}),
        ([ADULT, {**CHILD, "min_age": 18, "max_age": 6}], {("/ticket_types/1/max_age", "invalid_range")}),
        ([{**CHILD, "max_age": 151}], {("/ticket_types/0/max_age", "maximum")}),
        ([{**ADULT, "key": "Adult!"}], {("/ticket_types/0/key", "pattern")}),
        ([{"key": "adult", "name": "Adult"}], {("/ticket_types/0/price_amount", "required")}),
        ([{**ADULT, "name": {"fr": "Adulte"}}], {("/ticket_types/0/name/fr", "additionalProperties")}),
        ([{**ADULT, "discount": 10}], {("/ticket_types/0/discount", "additionalProperties")}),
    ],
)
def test_a_ticket_type_that_is_not_valid_is_refused_at_its_field_on_create_and_on_change(manager, make_type, problem, ticket_types, expected):
    make_type("tenant-a", "entry")

    created = problem(manager.post(TYPES, json={"vertical": "exhibition", "slug": "other", "name": "Other", "ticket_types": ticket_types}), 422)
    changed = problem(manager.patch(f"{TYPES}/entry", json={"ticket_types": ticket_types}), 422)

    assert problems(created) == problems(changed) == expected
    assert manager.get(f"{TYPES}/entry").get_json()["ticket_types"] == []


def test_more_than_twenty_ticket_types_are_refused(manager, make_type, problem):
    make_type("tenant-a", "entry")
    many = [{**ADULT, "key": f"t{n}"} for n in range(21)]

    assert problems(problem(manager.patch(f"{TYPES}/entry", json={"ticket_types": many}), 422)) == {("/ticket_types", "maxItems")}


def test_plain_staff_cannot_change_ticket_types(front_desk, make_type, problem):
    make_type("tenant-a", "entry")

    problem(front_desk.patch(f"{TYPES}/entry", json={"ticket_types": [ADULT]}), 403)
