"""POST bookings refuses bad input field by field, with a 4xx problem pointing at the field — never a 500."""

from __future__ import annotations

import pytest
from customer_api_setup import SLOT_DAY, iso, pointers

A = "/api/v1/t/tenant-a"
VALID = {"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Li Lei"}, "phone": "13800138000"}


def without(key: str) -> dict:
    return {k: v for k, v in VALID.items() if k != key}


CASES = {
    # missing
    "missing booking_type": (without("booking_type"), 422, "/booking_type"),
    "missing starts_at": (without("starts_at"), 422, "/starts_at"),
    "missing answers": (without("answers"), 422, "/answers"),
    "guest without phone": (without("phone"), 422, "/phone"),
    # wrong type
    "booking_type number": ({**VALID, "booking_type": 7}, 422, "/booking_type"),
    "booking_type empty": ({**VALID, "booking_type": ""}, 422, "/booking_type"),
    "starts_at number": ({**VALID, "starts_at": 1765242000}, 422, "/starts_at"),
    "channel number": ({**VALID, "channel": 1}, 422, "/channel"),
    "party_size string": ({**VALID, "party_size": "2"}, 422, "/party_size"),
    "party_size float": ({**VALID, "party_size": 1.5}, 422, "/party_size"),
    "party_size boolean": ({**VALID, "party_size": True}, 422, "/party_size"),
    "party_size zero": ({**VALID, "party_size": 0}, 422, "/party_size"),
    "answers list": ({**VALID, "answers": ["Li Lei"]}, 422, "/answers"),
    "phone number type": ({**VALID, "phone": 13800138000}, 422, "/phone"),
    # unknown field
    "unknown field": ({**VALID, "coupon": "FREE"}, 422, "/coupon"),
    # bad dates
    "starts_at not a date": ({**VALID, "starts_at": "next tuesday"}, 422, "/starts_at"),
    "starts_at impossible month": ({**VALID, "starts_at": f"{SLOT_DAY.year}-13-01T09:00:00+08:00"}, 422, "/starts_at"),
    "starts_at date only": ({**VALID, "starts_at": SLOT_DAY.isoformat()}, 422, "/starts_at"),
    "starts_at naive": ({**VALID, "starts_at": f"{SLOT_DAY}T09:00:00"}, 422, "/starts_at"),
    "starts_at in year 1": ({**VALID, "starts_at": "0001-01-01T00:00:00+14:00"}, 422, "/starts_at"),
    "starts_at in year 9999": ({**VALID, "starts_at": "9999-12-31T23:59:59-14:00"}, 422, "/starts_at"),
    # not a slot
    "starts_at between slots": ({**VALID, "starts_at": iso(9, 30)}, 422, "/starts_at"),
    "starts_at on a closed hour": ({**VALID, "starts_at": iso(20)}, 422, "/starts_at"),
    # refused by the booking type
    "unknown channel": ({**VALID, "channel": "vip"}, 422, "/channel"),
    "party too large": ({**VALID, "party_size": 5}, 422, "/party_size"),
    "answer missing": ({**VALID, "answers": {}}, 422, "/answers/name"),
    "answer of the wrong type": ({**VALID, "answers": {"name": 5}}, 422, "/answers/name"),
    "answer to an unknown field": ({**VALID, "answers": {"name": "Li", "shoe_size": 42}}, 422, "/answers/shoe_size"),
    "phone not a phone": ({**VALID, "phone": "call me"}, 422, "/phone"),
}


@pytest.mark.parametrize(("body", "status", "where"), CASES.values(), ids=CASES.keys())
def test_bad_booking_input_is_refused_at_its_field(client, make_type, problem, body, status, where):
    make_type(max_party_size=4)

    answer = problem(client.post(f"{A}/bookings", json=body), status)

    assert where in pointers(answer), answer


def test_every_problem_is_reported_at_once(client, entry, problem):
    body = problem(client.post(f"{A}/bookings", json={"starts_at": 5, "answers": [], "extra": True}), 422)

    assert pointers(body) >= {"/booking_type", "/starts_at", "/answers", "/extra"}


def test_an_unknown_booking_type_is_a_404(client, entry, problem):
    problem(client.post(f"{A}/bookings", json={**VALID, "booking_type": "nothing"}), 404, "booking_type_not_found")


@pytest.mark.parametrize("raw", ["{", "not json", '{"booking_type": "entry",}', "\xff"])
def test_malformed_json_is_a_400(client, entry, problem, raw):
    problem(client.post(f"{A}/bookings", data=raw, content_type="application/json"), 400, "malformed_json")


@pytest.mark.parametrize("raw", ["null", "[]", '"entry"', "5"])
def test_a_body_that_is_not_an_object_is_a_422(client, entry, problem, raw):
    problem(client.post(f"{A}/bookings", data=raw, content_type="application/json"), 422, "validation_failed")


@pytest.mark.parametrize("key", ["x" * 101, "   "])
def test_a_bad_idempotency_key_is_a_400(client, entry, problem, key):
    problem(client.post(f"{A}/bookings", json=VALID, headers={"Idempotency-Key": key}), 400, "invalid_idempotency_key")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "/starts_at"),
        ({"starts_at": "soon"}, "/starts_at"),
        ({"starts_at": f"{SLOT_DAY}T10:00:00"}, "/starts_at"),
        ({"starts_at": "0001-01-01T00:00:00+14:00"}, "/starts_at"),
        ({"starts_at": "9999-12-31T23:59:59-14:00"}, "/starts_at"),
        ({"starts_at": iso(10), "party_size": 2}, "/party_size"),
    ],
)
def test_bad_reschedule_input_is_refused_at_its_field(alice, entry, book, problem, body, where):
    booking = book(alice)

    assert where in pointers(problem(alice.post(f"{A}/bookings/{booking['id']}/reschedule", json=body), 422))


@pytest.mark.parametrize(("body", "where"), [({"reason": 5}, "/reason"), ({"reason": "x" * 201}, "/reason"), ({"why": "no"}, "/why")])
def test_bad_cancel_input_is_refused_at_its_field(alice, entry, book, problem, body, where):
    booking = book(alice)

    assert where in pointers(problem(alice.post(f"{A}/bookings/{booking['id']}/cancel", json=body), 422))
