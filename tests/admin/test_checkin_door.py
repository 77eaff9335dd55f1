"""The check-in page at the door: a code or a QR payload is accepted once, refused with its reason after, and every attempt is in the day's log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_setup import at, book_visit, make_museum, set_clock, sign_in
from flask import current_app

from yuyue.bookings import operations as booking_operations
from yuyue.bookings.checkin import voucher_qr

PAGE = "/admin/t/tenant-a/check-in/"


@pytest.fixture
def visits(session, tenants, monkeypatch):
    """Confirmed visits at 09:00 on the slot day for tenant-a (Wang, Zhao) and tenant-b (Bee); the clock at 08:45 that day."""
    for tenant in tenants.values():
        make_museum(session, tenant)
    booked = {
        "wang": book_visit(session, tenants["tenant-a"], "13800000001", "王芳"),
        "zhao": book_visit(session, tenants["tenant-a"], "13800000002", "赵雷", companion=False),
        "bee": book_visit(session, tenants["tenant-b"], "13800000009", "Bee Visitor"),
    }
    set_clock(monkeypatch, at(8, 45))
    return booked


def verdict(response) -> str:
    page = response.get_data(as_text=True)
    if 'data-verdict="accept"' in page:
        return "accept"
    if 'data-verdict="refuse"' in page:
        return "refuse"
    return "none"


def test_a_voucher_code_is_accepted(admin_login, visits):
    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": visits["wang"].voucher_code.lower(), "place": "East gate"})

    assert response.status_code == 200
    assert verdict(response) == "accept"
    assert "王芳" in response.get_data(as_text=True)


def test_a_qr_payload_is_accepted(admin_login, visits, tenants):
    payload = voucher_qr(current_app.config["SECRET_KEY"], tenants["tenant-a"], visits["wang"])

    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": payload})

    assert verdict(response) == "accept"


def test_a_second_scan_is_refused_as_already_used(admin_login, visits, tenants):
    door = sign_in(admin_login, "staff-a")
    door.post(PAGE, {"code": visits["wang"].voucher_code})

    again = door.post(PAGE, {"code": voucher_qr(current_app.config["SECRET_KEY"], tenants["tenant-a"], visits["wang"])})

    assert verdict(again) == "refuse"
    assert "Already used" in again.get_data(as_text=True)


def test_another_tenants_qr_payload_is_refused_with_its_reason(admin_login, visits, tenants):
    theirs = voucher_qr(current_app.config["SECRET_KEY"], tenants["tenant-b"], visits["bee"])

    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": theirs})

    assert verdict(response) == "refuse"
    page = response.get_data(as_text=True)
    assert "another merchant" in page
    assert "Bee Visitor" not in page and visits["bee"].public_id not in page


def test_another_tenants_voucher_code_is_unknown_here(admin_login, visits):
    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": visits["bee"].voucher_code})

    assert verdict(response) == "refuse" and "Unknown code" in response.get_data(as_text=True)


def test_a_cancelled_booking_is_refused(admin_login, visits, session, tenants):
    booking_operations.cancel(session, tenants["tenant-a"], visits["zhao"].public_id, by_staff=True)

    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": visits["zhao"].voucher_code})

    assert verdict(response) == "refuse" and "was cancelled" in response.get_data(as_text=True)


def test_a_booking_of_another_day_is_refused(admin_login, visits, monkeypatch):
    set_clock(monkeypatch, at(8, 45) - timedelta(days=1))

    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": visits["wang"].voucher_code})

    assert verdict(response) == "refuse" and "Wrong day" in response.get_data(as_text=True)


def test_the_days_log_lists_every_attempt_with_its_reason_and_staff(admin_login, visits, session, tenants, staff_client):
    booking_operations.cancel(session, tenants["tenant-a"], visits["zhao"].public_id, by_staff=True)
    door = sign_in(admin_login, "staff-a")
    door.post(PAGE, {"code": visits["wang"].voucher_code})
    door.post(PAGE, {"code": visits["wang"].voucher_code})
    door.post(PAGE, {"code": voucher_qr(current_app.config["SECRET_KEY"], tenants["tenant-b"], visits["bee"])})
    door.post(PAGE, {"code": visits["zhao"].voucher_code})
    assert verdict(sign_in(admin_login, "staff-b").post("/admin/t/tenant-b/check-in/", {"code": visits["bee"].voucher_code})) == "accept"
    # The merchant API's check-ins are logged too.
    staff_client("tenant-a").post("/api/v1/t/tenant-a/admin/check-ins", json={"code": "NOSUCHCODE"})

    page = door.get(PAGE).get_data(as_text=True)
    log = page[page.index('class="checkin-log"') :]

    assert log.count('class="log-accepted"') == 1
    assert log.count('class="log-refused"') == 4
    for reason in ("Already used", "another merchant", "was cancelled", "Unknown code"):
        assert reason in log
    assert "staff-a" in log and "staff-b" not in log
    assert visits["wang"].voucher_code not in log, "the log shows codes masked"
    assert "*" * 6 + visits["wang"].voucher_code[-4:] in log
    assert visits["bee"].public_id[:8] not in log


def test_the_api_and_the_page_share_one_log(admin_login, visits, staff_client):
    sign_in(admin_login, "staff-a").post(PAGE, {"code": visits["wang"].voucher_code})

    body = staff_client("tenant-a").get(f"/api/v1/t/tenant-a/admin/check-ins?day={at(9).date()}").get_json()

    assert [(a["outcome"], a["booking"], a["staff"]) for a in body["attempts"]] == [("accepted", visits["wang"].public_id, "staff-a")]
    assert body["day"] == at(9).date().isoformat()


@pytest.mark.parametrize("typed", ["", "   ", "Q" * 1001])
def test_input_that_is_no_code_is_shown_as_a_field_error(admin_login, visits, typed):
    response = sign_in(admin_login, "staff-a").post(PAGE, {"code": typed})

    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_a_nul_character_is_refused_before_the_page(admin_login, visits):
    assert sign_in(admin_login, "staff-a").post(PAGE, {"code": "A\x00B"}).status_code == 400


def test_the_page_is_for_every_staff_role_of_the_tenant_only(admin_login, visits):
    for user in ("owner-a", "manager-a", "staff-a"):
        assert sign_in(admin_login, user).get(PAGE).status_code == 200
    assert sign_in(admin_login, "owner-b").get(PAGE).status_code == 404
    assert sign_in(admin_login, "staff-a").post_without_csrf(PAGE, {"code": visits["wang"].voucher_code}).status_code == 400, "no CSRF token"
