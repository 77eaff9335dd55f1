"""Customer request bodies refuse bad input field by field: a 422 problem pointing at the field, never a 500.

Joining the waitlist, rescheduling, cancelling and adding a companion; each
matrix is read off the schema the endpoint validates with (see bad_inputs),
plus the rows only the endpoint can judge. POST bookings has its own module.
"""

from __future__ import annotations

from datetime import date

import pytest
from bad_inputs import bad_inputs, case
from customer_api_setup import id_number, iso, pointers

from yuyue.api.schemas.customer.bookings import BOOKING_CANCEL, BOOKING_RESCHEDULE
from yuyue.api.schemas.customer.me import COMPANION_CREATE
from yuyue.api.schemas.customer.waitlist import WAITLIST_JOIN

A = "/api/v1/t/tenant-a"

WAITLIST = {"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Bob"}, "channel": "default", "party_size": 1, "auto_confirm": False}
WAITLIST_CASES = [
    *bad_inputs(WAITLIST_JOIN, WAITLIST),
    case("starts_at: not a slot", WAITLIST, "/starts_at", starts_at=iso(9, 30)),
    case("channel: not offered", WAITLIST, "/channel", channel="vip"),
    case("party_size: above the type's maximum", WAITLIST, "/party_size", party_size=5),
    case("answers: a field missing", WAITLIST, "/answers/name", answers={}),
    case("answers: an unknown field", WAITLIST, "/answers/shoe_size", answers={"name": "Bob", "shoe_size": 42}),
]
RESCHEDULE = {"starts_at": iso(10)}
RESCHEDULE_CASES = [*bad_inputs(BOOKING_RESCHEDULE, RESCHEDULE), case("starts_at: not a slot", RESCHEDULE, "/starts_at", starts_at=iso(10, 30))]
CANCEL = {"reason": "fell ill"}
ID_NUMBER = id_number(date(2010, 5, 1), 1)
COMPANION = {"name": "Li Xiaoming", "id_number": ID_NUMBER, "phone": "13800000009", "relation": "son"}
COMPANION_CASES = [
    *bad_inputs(COMPANION_CREATE, COMPANION),
    case("id_number: wrong check character", COMPANION, "/id_number", id_number=ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] == "0" else "0")),
    case("id_number: not an ID number", COMPANION, "/id_number", id_number="ABC"),
]


@pytest.fixture
def full_slot(make_type, book, alice) -> dict:
    """Type ``entry`` with one place a slot; Alice holds the 09:00 one, so Bob may wait for it."""
    make_type(capacity=1)
    return book(alice)


def refused_at(problem, response, pointer: str) -> None:
    assert pointer in pointers(problem(response, 422, "validation_failed"))


def test_the_valid_waitlist_body_is_accepted(bob, full_slot):
    assert bob.post(f"{A}/waitlist", json=WAITLIST).status_code == 201


@pytest.mark.parametrize("bad", WAITLIST_CASES, ids=str)
def test_a_bad_waitlist_body_is_refused_at_its_field(bob, full_slot, problem, bad):
    refused_at(problem, bob.post(f"{A}/waitlist", json=bad.body), bad.pointer)


def test_the_valid_reschedule_body_is_accepted(alice, entry, book):
    booking = book(alice)

    assert alice.post(f"{A}/bookings/{booking['id']}/reschedule", json=RESCHEDULE).status_code == 200


@pytest.mark.parametrize("bad", RESCHEDULE_CASES, ids=str)
def test_a_bad_reschedule_body_is_refused_at_its_field(alice, entry, book, problem, bad):
    booking = book(alice)

    refused_at(problem, alice.post(f"{A}/bookings/{booking['id']}/reschedule", json=bad.body), bad.pointer)


def test_the_valid_cancel_body_is_accepted(alice, entry, book):
    booking = book(alice)

    assert alice.post(f"{A}/bookings/{booking['id']}/cancel", json=CANCEL).status_code == 200


@pytest.mark.parametrize("bad", bad_inputs(BOOKING_CANCEL, CANCEL), ids=str)
def test_a_bad_cancel_body_is_refused_at_its_field(alice, entry, book, problem, bad):
    booking = book(alice)

    refused_at(problem, alice.post(f"{A}/bookings/{booking['id']}/cancel", json=bad.body), bad.pointer)
    assert alice.get(f"{A}/bookings/{booking['id']}").get_json()["status"] == "confirmed"


def test_the_valid_companion_body_is_accepted(alice):
    assert alice.post(f"{A}/me/companions", json=COMPANION).status_code == 201


@pytest.mark.parametrize("bad", COMPANION_CASES, ids=str)
def test_a_bad_companion_body_is_refused_at_its_field(alice, problem, bad):
    refused_at(problem, alice.post(f"{A}/me/companions", json=bad.body), bad.pointer)
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == []
