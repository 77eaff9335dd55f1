"""Actions on a booking from its page: each asks first (cancel shows its terms and refund), then calls the operation the merchant API calls.

Roles: every staff role confirms, cancels, reschedules, marks no-shows and takes payment at the
counter (the door and the front desk do these all day); a refund is for managers and owners,
since money leaves the business.
"""

from __future__ import annotations

import pytest
from desk_setup import at, book_visit, make_museum, set_clock, sign_in
from tenant_setup import windows

from yuyue.catalog.operations import update_booking_type
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import set_payment_provider
from yuyue.plugins import plugin_host
from yuyue.scheduling.registry import current_registry

DESK = "/admin/t/tenant-a/bookings/"


@pytest.fixture
def visit(session, tenants):
    make_museum(session, tenants["tenant-a"])
    return book_visit(session, tenants["tenant-a"], "13800000001", "王芳")


@pytest.fixture
def paid_visit(session, tenants, admin_login):
    """A priced visit (adult 60.00 + child 30.00) paid at the counter: the offline provider, recorded by staff."""
    tenant = tenants["tenant-a"]
    set_payment_provider(session, tenant, "offline")
    make_museum(session, tenant, priced=True)
    booking = book_visit(session, tenant, "13800000001", "王芳", tickets={"adult": 1, "child": 1})
    assert booking.status.value == "held"
    response = sign_in(admin_login, "staff-a").post(DESK + booking.public_id + "/offline-payment")
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return booking


def page_of(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index("<main") :]


def status_on_page(desk, booking) -> str:
    page = page_of(desk.get(DESK + booking.public_id))
    return page.split("status-", 1)[1].split('"', 1)[0]


def test_cancel_shows_the_terms_first_and_cancels_only_when_confirmed(admin_login, visit):
    desk = sign_in(admin_login, "staff-a")

    asked = page_of(desk.get(DESK + visit.public_id + "/cancel"))
    assert 'id="terms"' in asked and "On time" in asked
    assert status_on_page(desk, visit) == "confirmed"

    done = desk.post(DESK + visit.public_id + "/cancel", {"reason": "family emergency"})
    assert done.status_code == 302 and done.headers["Location"].endswith(visit.public_id)
    assert status_on_page(desk, visit) == "cancelled"
    assert "family emergency" in page_of(desk.get(DESK + visit.public_id))


def test_counter_payment_confirms_a_held_booking_and_the_cancel_terms_show_the_refund(admin_login, paid_visit):
    desk = sign_in(admin_login, "staff-a")
    assert status_on_page(desk, paid_visit) == "confirmed"

    terms = page_of(desk.get(DESK + paid_visit.public_id + "/cancel"))

    assert "90.00 CNY" in terms.split('class="refund-amount"', 1)[1].split("</dd>", 1)[0]


def test_a_late_cancellation_shows_the_customers_terms_and_that_staff_waive_them(admin_login, session, tenants, monkeypatch):
    tenant = tenants["tenant-a"]
    make_museum(session, tenant)
    policies = {"cancellation": {"deadline_hours": 24, "late": {"action": "fee", "fee_percent": 30}}}
    update_booking_type(session, plugin_host(), form_registry(), current_registry(), tenant, "museum", policies=policies)
    booking = book_visit(session, tenant, "13800000001", "王芳")
    set_clock(monkeypatch, at(8))

    terms = page_of(sign_in(admin_login, "staff-a").get(DESK + booking.public_id + "/cancel"))

    assert "Late" in terms and "30%" in terms


def test_a_staff_member_may_not_refund_a_manager_may(admin_login, paid_visit):
    staff = sign_in(admin_login, "staff-a")
    assert staff.get(DESK + paid_visit.public_id + "/refund").status_code == 403
    assert staff.post(DESK + paid_visit.public_id + "/refund", {"amount": "10"}).status_code == 403
    assert 'href="/admin/t/tenant-a/bookings/' + paid_visit.public_id + '/refund"' not in page_of(staff.get(DESK + paid_visit.public_id))

    manager = sign_in(admin_login, "manager-a")
    form = page_of(manager.get(DESK + paid_visit.public_id + "/refund"))
    assert "90.00 CNY" in form
    done = manager.post(DESK + paid_visit.public_id + "/refund", {"amount": "25.50", "note": "broken audio guide"})

    assert done.status_code == 302
    page = page_of(manager.get(DESK + paid_visit.public_id))
    assert "−25.50 CNY" in page and "succeeded" in page
    assert "payment.refund_requested" in page and "manager-a" in page


@pytest.mark.parametrize(("amount", "message"), [("100", "between 1 and 9000"), ("abc", "12.50"), ("0.001", "12.50"), ("1e9", "12.50")])
def test_a_refused_refund_keeps_what_was_typed(admin_login, paid_visit, amount, message):
    response = sign_in(admin_login, "owner-a").post(DESK + paid_visit.public_id + "/refund", {"amount": amount, "note": "kept note"})

    assert response.status_code == 422
    page = page_of(response)
    assert message in page and f'value="{amount}"' in page and 'value="kept note"' in page


def test_confirm_a_held_booking(admin_login, session, tenants):
    tenant = tenants["tenant-a"]
    make_museum(session, tenant, priced=True)
    held = book_visit(session, tenant, "13800000001", "王芳", companion=False, tickets={"adult": 1})
    desk = sign_in(admin_login, "staff-a")

    assert "Confirm" in page_of(desk.get(DESK + held.public_id + "/confirm"))
    assert desk.post(DESK + held.public_id + "/confirm").status_code == 302
    assert status_on_page(desk, held) == "confirmed"


def test_no_show_before_the_slot_starts_is_refused_on_the_page(admin_login, visit):
    response = sign_in(admin_login, "staff-a").post(DESK + visit.public_id + "/no-show")

    assert response.status_code == 409
    assert "refusal-message" in page_of(response)


def test_no_show_after_the_slot_started(admin_login, visit, monkeypatch):
    set_clock(monkeypatch, at(10))
    desk = sign_in(admin_login, "staff-a")

    assert desk.post(DESK + visit.public_id + "/no-show").status_code == 302
    assert status_on_page(desk, visit) == "no_show"


def test_reschedule_lists_the_slots_of_the_day_and_moves_the_booking(admin_login, visit):
    desk = sign_in(admin_login, "staff-a")

    form = page_of(desk.get(DESK + visit.public_id + "/reschedule"))
    assert f'value="{at(14).isoformat()}"' in form and f'value="{at(9).isoformat()}"' not in form

    assert desk.post(DESK + visit.public_id + "/reschedule", {"starts_at": at(14).isoformat()}).status_code == 302
    page = page_of(desk.get(DESK + visit.public_id))
    assert "14:00–16:00" in page and "booking.rescheduled" in page


def test_a_refused_reschedule_says_why_and_keeps_the_choice(admin_login, visit, session, tenants):
    tenant = tenants["tenant-a"]
    update_booking_type(
        session,
        plugin_host(),
        form_registry(),
        current_registry(),
        tenant,
        "museum",
        availability_rules=windows(("09:00", "11:00"), ("14:00", "16:00"), capacity=2),
    )
    book_visit(session, tenant, "13800000003", "李四", hour=14)

    response = sign_in(admin_login, "staff-a").post(DESK + visit.public_id + "/reschedule", {"starts_at": at(14).isoformat()})

    assert response.status_code == 409
    page = page_of(response)
    assert "refusal-message" in page
    assert f'value="{at(14).isoformat()}" checked' in page


@pytest.mark.parametrize("starts_at", ["", "tomorrow", "2026-12-17T09:00:00", "9999-01-01T09:00:00+08:00"])
def test_a_reschedule_without_a_valid_slot_is_a_field_error(admin_login, visit, starts_at):
    response = sign_in(admin_login, "staff-a").post(DESK + visit.public_id + "/reschedule", {"starts_at": starts_at})

    assert response.status_code == 422 and 'class="field-error"' in page_of(response)


def test_actions_need_the_csrf_token(admin_login, visit):
    desk = sign_in(admin_login, "staff-a")

    assert desk.post_without_csrf(DESK + visit.public_id + "/cancel", {"reason": "x"}).status_code == 400
    assert status_on_page(desk, visit) == "confirmed"
