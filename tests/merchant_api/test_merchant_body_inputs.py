"""Merchant request bodies refuse bad input field by field: a 422 problem pointing at the field, never a 500.

Changing a booking type, adding and changing resources, check-ins and
cancelling a booking; each matrix is read off the schema the endpoint
validates with (see bad_inputs), plus the rows only the operations can judge.
A refused request changes nothing. POST booking-types has its own module.
"""

from __future__ import annotations

import pytest
from bad_inputs import bad_inputs, case
from merchant_setup import NAME_FORM, NAME_UI, at, windows

from yuyue.api.schemas.merchant.booking_types import BOOKING_TYPE_CHANGE
from yuyue.api.schemas.merchant.bookings import BOOKING_CANCEL
from yuyue.api.schemas.merchant.check_ins import CHECK_IN
from yuyue.api.schemas.merchant.resources import RESOURCE_CHANGE, RESOURCE_CREATE

ADMIN = "/api/v1/t/tenant-a/admin"

BOOKING_TYPE = {
    "name": {"en": "Visit"},
    "description": "The permanent exhibition",
    "availability_rules": windows(("09:00", "11:00")),
    "policies": {},
    "resource_requirements": [],
    "price_amount": 100,
    "currency": "CNY",
    "hold_minutes": 15,
    "max_party_size": 4,
    "form": NAME_FORM,
    "ui": NAME_UI,
    "status": "active",
}
BOOKING_TYPE_CASES = [
    *bad_inputs(BOOKING_TYPE_CHANGE, BOOKING_TYPE),
    case("name: an unknown language", BOOKING_TYPE, "/name/fr", name={"fr": "Visite"}),
    case("availability_rules: an unknown rule", BOOKING_TYPE, "/availability_rules/0/type", availability_rules=[{"type": "moon_phases", "params": {}}]),
    case("policies: an unknown policy", BOOKING_TYPE, "/policies/no_such_policy", policies={"no_such_policy": True}),
    case("resource_requirements: an unknown resource", BOOKING_TYPE, "/resource_requirements/0/resource_ids/0", resource_requirements=[{"kind": "coach", "resource_ids": [999999]}]),
    case("form: an unknown field type", BOOKING_TYPE, "/form/properties/x/x-field", form={"type": "object", "properties": {"x": {"type": "string", "x-field": "no-such-type"}}}),
    case("ui: orders a field the form lacks", BOOKING_TYPE, "/ui/order/0", ui={"order": ["no_such_field"]}),
]  # fmt: skip
SCHEDULE = {"mon": [{"start": "09:00", "end": "17:00"}]}
RESOURCE = {"kind": "coach", "code": "coach-wang", "name": {"en": "Coach Wang"}, "schedule": SCHEDULE}
RESOURCE_CASES = [
    *bad_inputs(RESOURCE_CREATE, RESOURCE),
    case("name: an unknown language", RESOURCE, "/name/fr", name={"fr": "Entraîneur"}),
    case("schedule: an hour that does not exist", RESOURCE, "/schedule/mon/0/start", schedule={"mon": [{"start": "25:00", "end": "26:00"}]}),
    case("schedule: not a weekday", RESOURCE, "/schedule/someday", schedule={"someday": []}),
]
RESOURCE_UPDATE = {"name": "Coach Li", "schedule": None, "active": False}
RESOURCE_UPDATE_CASES = [
    *bad_inputs(RESOURCE_CHANGE, RESOURCE_UPDATE),
    case("schedule: an hour that does not exist", RESOURCE_UPDATE, "/schedule/mon/0/end", schedule={"mon": [{"start": "09:00", "end": "9pm"}]}),
]
CHECK_IN_BY_CODE = {"code": "ABCD-2345", "place": "East gate"}
CHECK_IN_CASES = [
    *bad_inputs(CHECK_IN, CHECK_IN_BY_CODE),
    case("code and qr both given", CHECK_IN_BY_CODE, "/code", qr="payload"),
    case("neither code nor qr", {"place": "East gate"}, "/code"),
]
CANCEL = {"reason": "closed for a storm"}


def refused_at(problem, response, pointer: str) -> None:
    errors = problem(response, 422, "validation_failed")["errors"]
    assert pointer in [e["pointer"] for e in errors], errors


@pytest.fixture
def entry(make_type):
    return make_type("tenant-a", "entry")


@pytest.fixture
def confirmed(entry, book):
    return book("tenant-a", at(9), "13800000001", name="Li Lei")


def test_the_valid_booking_type_change_is_accepted(manager, entry):
    assert manager.patch(f"{ADMIN}/booking-types/entry", json=BOOKING_TYPE).status_code == 200


@pytest.mark.parametrize("bad", BOOKING_TYPE_CASES, ids=str)
def test_a_bad_booking_type_change_is_refused_at_its_field(manager, entry, problem, bad):
    before = manager.get(f"{ADMIN}/booking-types/entry").get_json()

    refused_at(problem, manager.patch(f"{ADMIN}/booking-types/entry", json=bad.body), bad.pointer)
    assert manager.get(f"{ADMIN}/booking-types/entry").get_json() == before


def test_the_valid_resource_is_accepted(manager):
    assert manager.post(f"{ADMIN}/resources", json=RESOURCE).status_code == 201


@pytest.mark.parametrize("bad", RESOURCE_CASES, ids=str)
def test_a_bad_resource_is_refused_at_its_field(manager, problem, bad):
    refused_at(problem, manager.post(f"{ADMIN}/resources", json=bad.body), bad.pointer)
    assert manager.get(f"{ADMIN}/resources").get_json()["resources"] == []


def test_the_valid_resource_change_is_accepted(manager, make_coach):
    make_coach("tenant-a")

    assert manager.patch(f"{ADMIN}/resources/coach-li", json=RESOURCE_UPDATE).status_code == 200


@pytest.mark.parametrize("bad", RESOURCE_UPDATE_CASES, ids=str)
def test_a_bad_resource_change_is_refused_at_its_field(manager, make_coach, problem, bad):
    make_coach("tenant-a")
    before = manager.get(f"{ADMIN}/resources").get_json()

    refused_at(problem, manager.patch(f"{ADMIN}/resources/coach-li", json=bad.body), bad.pointer)
    assert manager.get(f"{ADMIN}/resources").get_json() == before


def test_the_valid_check_in_is_accepted(front_desk, confirmed, clock):
    clock(at(8, 45))

    assert front_desk.post(f"{ADMIN}/check-ins", json={**CHECK_IN_BY_CODE, "code": confirmed.voucher_code}).status_code == 200


@pytest.mark.parametrize("bad", CHECK_IN_CASES, ids=str)
def test_a_bad_check_in_is_refused_at_its_field(front_desk, confirmed, problem, bad):
    refused_at(problem, front_desk.post(f"{ADMIN}/check-ins", json=bad.body), bad.pointer)
    assert front_desk.get(f"{ADMIN}/bookings/{confirmed.public_id}").get_json()["check_in"] is None


def test_the_valid_cancel_is_accepted(front_desk, confirmed):
    assert front_desk.post(f"{ADMIN}/bookings/{confirmed.public_id}/cancel", json=CANCEL).status_code == 200


@pytest.mark.parametrize("bad", bad_inputs(BOOKING_CANCEL, CANCEL), ids=str)
def test_a_bad_cancel_is_refused_at_its_field(front_desk, confirmed, problem, bad):
    refused_at(problem, front_desk.post(f"{ADMIN}/bookings/{confirmed.public_id}/cancel", json=bad.body), bad.pointer)
    assert front_desk.get(f"{ADMIN}/bookings/{confirmed.public_id}").get_json()["status"] == "confirmed"
