"""Check-in over HTTP by voucher code or QR payload: idempotent, refused with a reason, never across tenants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from merchant_setup import at

from yuyue.bookings.checkin import voucher_qr

CHECK_INS = "/api/v1/t/tenant-a/admin/check-ins"


@pytest.fixture
def booking(make_type, book, clock):
    make_type("tenant-a", "entry")
    confirmed = book("tenant-a", at(9), "13800000001", name="Li Lei")
    clock(at(8, 45))
    return confirmed


def test_check_in_by_voucher_code(front_desk, booking):
    response = front_desk.post(CHECK_INS, json={"code": booking.voucher_code.lower(), "place": "East gate"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["already_checked_in"] is False
    assert body["booking"]["status"] == "checked_in"
    assert body["booking"]["check_in"] == {"at": at(8, 45).isoformat(), "place": "East gate", "method": "code"}


def test_check_in_by_qr_payload(front_desk, booking, tenant_of):
    payload = voucher_qr(current_app.config["SECRET_KEY"], tenant_of("tenant-a"), booking)

    body = front_desk.post(CHECK_INS, json={"qr": payload}).get_json()

    assert body["booking"]["id"] == booking.public_id and body["booking"]["check_in"]["method"] == "qr"


def test_a_second_scan_answers_with_the_first_check_in(front_desk, booking, clock, tenant_of):
    first = front_desk.post(CHECK_INS, json={"code": booking.voucher_code, "place": "East gate"}).get_json()
    clock(at(8, 50))
    payload = voucher_qr(current_app.config["SECRET_KEY"], tenant_of("tenant-a"), booking)

    again = front_desk.post(CHECK_INS, json={"qr": payload, "place": "West gate"})

    assert again.status_code == 200
    assert again.get_json()["already_checked_in"] is True
    assert again.get_json()["booking"]["check_in"] == first["booking"]["check_in"]


def test_the_booking_shows_its_check_in_afterwards(front_desk, booking):
    front_desk.post(CHECK_INS, json={"code": booking.voucher_code, "place": "East gate"})

    shown = front_desk.get(f"/api/v1/t/tenant-a/admin/bookings/{booking.public_id}").get_json()

    assert shown["status"] == "checked_in" and shown["check_in"]["place"] == "East gate"


def test_an_altered_qr_payload_is_refused(front_desk, booking, tenant_of, problem):
    payload = voucher_qr(current_app.config["SECRET_KEY"], tenant_of("tenant-a"), booking)

    problem(front_desk.post(CHECK_INS, json={"qr": payload[:-2] + "xx"}), 409, "invalid_voucher")


def test_another_tenants_qr_payload_is_refused_before_any_lookup(front_desk, booking, make_type, book, tenant_of, problem):
    make_type("tenant-b", "entry")
    theirs = book("tenant-b", at(9), "13800000001")

    problem(front_desk.post(CHECK_INS, json={"qr": voucher_qr(current_app.config["SECRET_KEY"], tenant_of("tenant-b"), theirs)}), 409, "wrong_tenant")


def test_another_tenants_voucher_code_is_not_found(front_desk, booking, make_type, book, problem):
    make_type("tenant-b", "entry")
    theirs = book("tenant-b", at(9), "13800000002")

    problem(front_desk.post(CHECK_INS, json={"code": theirs.voucher_code}), 404, "voucher_not_found")


def test_check_in_on_another_day_is_refused(front_desk, booking, clock, problem):
    clock(at(9) - timedelta(days=1))

    problem(front_desk.post(CHECK_INS, json={"code": booking.voucher_code}), 409, "wrong_day")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/code"),
        ({"code": "ABC", "qr": "xyz"}, "/code"),
        ({"code": 123}, "/code"),
        ({"code": ""}, "/code"),
        ({"qr": ["x"]}, "/qr"),
        ({"code": "ABC", "place": "x" * 101}, "/place"),
        ({"code": "ABC", "gate": "east"}, "/gate"),
    ],
)
def test_bad_check_in_bodies_are_a_422(front_desk, booking, problem, body, pointer):
    errors = problem(front_desk.post(CHECK_INS, json=body), 422)["errors"]

    assert pointer in {e["pointer"] for e in errors}
