"""My bookings, cancelling and rescheduling on the site: the terms shown before the customer confirms, and who may see what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from account_setup import SITE, Browser, fresh_booking, make_visit, phone, place, slot
from sqlalchemy import select

from yuyue.api.auth import customer_tokens
from yuyue.bookings.models import BookingStatus
from yuyue.customers.models import PointsEntry
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def browser(app) -> Browser:
    """A browser of its own on the site, reading English."""
    return Browser(app)


def dd_after(html: str, title: str) -> str:
    """The text of the ``<dd>`` following the ``<dt>`` titled ``title``."""
    found = re.search(rf"<dt>{re.escape(title)}</dt>\s*<dd[^>]*>(.*?)</dd>", html, re.S)
    assert found, f"no {title!r} in the terms"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


# --- my bookings --------------------------------------------------------------------------------


def test_my_bookings_sends_a_visitor_to_log_in_and_back(browser):
    response = browser.get(f"{SITE}/me/bookings")

    assert response.status_code == 302
    assert response.headers["Location"] == f"{SITE}/login?next=/t/tenant-a/me/bookings"


def test_my_bookings_lists_the_coming_ones_soonest_first_then_the_past_ones(browser, session):
    make_visit(session)
    later = place(session, 1, starts_at=slot(10))
    sooner = place(session, 1, starts_at=slot(9))
    past_slot = slot(9, days_ahead=-2)
    past = place(session, 1, starts_at=past_slot, now=past_slot - timedelta(days=1))
    browser.log_in(1)

    html = browser.page(f"{SITE}/me/bookings")

    order = [html.index(f"/bookings/{b.public_id}") for b in (sooner, later, past)]
    assert order == sorted(order)
    assert html.index("past-title") < order[2]
    assert html.count(f"/bookings/{past.public_id}/cancel") == 0
    assert f"/bookings/{sooner.public_id}/cancel" in html and f"/bookings/{sooner.public_id}/reschedule" in html


def test_my_bookings_shows_no_one_elses_bookings_and_is_not_cached(browser, session):
    make_visit(session)
    mine, theirs = place(session, 1), place(session, 2)
    browser.log_in(1)

    response = browser.get(f"{SITE}/me/bookings")

    html = response.get_data(as_text=True)
    assert mine.public_id in html and theirs.public_id not in html
    assert response.headers["Cache-Control"] == "no-store"


# --- who may open a booking's pages ---------------------------------------------------------------

PAGES = ("cancel", "reschedule", "pay")


@pytest.mark.parametrize("page", PAGES)
def test_another_customers_booking_is_a_404_page(browser, session, page):
    make_visit(session)
    theirs = place(session, 2)
    browser.log_in(1)

    same_id = {"X-Request-ID": "probe"}  # the pages show their request's id; with one id they must not differ at all
    response = browser.get(f"{SITE}/bookings/{theirs.public_id}/{page}", headers=same_id)

    missing = "0" * len(theirs.public_id)
    assert response.status_code == 404 and response.mimetype == "text/html"
    # exactly the page of a booking that does not exist, so ids cannot be probed
    as_missing = response.get_data(as_text=True).replace(theirs.public_id, missing)
    assert as_missing == browser.get(f"{SITE}/bookings/{missing}/{page}", headers=same_id).get_data(as_text=True)


@pytest.mark.parametrize("page", PAGES)
def test_another_tenants_booking_is_a_404_page_even_to_its_own_customer(browser, session, page):
    make_visit(session, "tenant-b")
    theirs = place(session, 1, tenant_slug="tenant-b")
    browser.log_in(1, site="/t/tenant-b")
    browser.log_in(1)

    assert browser.get(f"{SITE}/bookings/{theirs.public_id}/{page}").status_code == 404
    assert browser.get(f"/t/tenant-b/bookings/{theirs.public_id}/{page}").status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_a_guest_sees_the_booking_placed_on_this_browser_and_no_other(app, session, tenants, page):
    make_visit(session)
    guests, others = place(session, 1), place(session, 2)
    guest = Browser(app)
    guest.remember_guest_booking(tenants["tenant-a"].id, guests.public_id)

    assert guest.get(f"{SITE}/bookings/{guests.public_id}/{page}").status_code == 200
    assert guest.get(f"{SITE}/bookings/{others.public_id}/{page}").status_code == 404
    assert Browser(app).get(f"{SITE}/bookings/{guests.public_id}/{page}").status_code == 404


@pytest.mark.parametrize("public_id", ["nope", "b" * 200, "%00", "..%2F..%2Fetc", "1%20OR%201=1"])
@pytest.mark.parametrize("page", PAGES)
def test_hostile_booking_ids_are_4xx_pages(browser, page, public_id):
    browser.log_in(1)

    response = browser.get(f"{SITE}/bookings/{public_id}/{page}")

    assert 400 <= response.status_code < 500 and response.mimetype == "text/html"


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_page_shows_the_terms_the_api_then_cancels_under(app, browser, session, tenants):
    make_visit(session, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 5}}})
    booking = place(session, 1)
    browser.log_in(1)

    html = browser.page(f"{SITE}/bookings/{booking.public_id}/cancel")

    shown = {"points": dd_after(html, "Points deducted"), "late": "Late cancellation" in html}
    with tenant_scope(tenants["tenant-a"].id), app.test_request_context():
        token = customer_tokens(customer_for_phone(session, phone(1)))["access_token"]
    cancelled = app.test_client().post(f"/api/v1/t/tenant-a/bookings/{booking.public_id}/cancel", headers={"Authorization": f"Bearer {token}"}, json={})
    terms = cancelled.get_json()["cancellation"]
    assert shown == {"points": str(terms["points_deducted"]), "late": terms["late"]} == {"points": "5", "late": True}


def test_confirming_the_cancel_cancels_under_the_terms_shown(browser, session, tenants):
    make_visit(session, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 5}}})
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/cancel")

    response = browser.post(f"{SITE}/bookings/{booking.public_id}/cancel")

    assert response.status_code == 200 and dd_after(response.get_data(as_text=True), "Points deducted") == "5"
    assert fresh_booking(session, "tenant-a", booking.public_id).status is BookingStatus.cancelled
    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalars(select(PointsEntry.delta)).all() == [-5]


def test_cancel_page_shows_the_refund_of_what_was_paid_less_the_late_fee(browser, session):
    make_visit(session, price_amount=1000, hold_minutes=15, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "fee", "fee_percent": 20}}})
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/pay")
    checkout = browser.post(f"{SITE}/bookings/{booking.public_id}/pay").headers["Location"]
    browser.get(checkout)
    browser.post(checkout)

    html = browser.page(f"{SITE}/bookings/{booking.public_id}/cancel")

    refund = dd_after(html, "Refund")
    assert "8.00" in refund and "20%" in refund
    done = browser.post(f"{SITE}/bookings/{booking.public_id}/cancel").get_data(as_text=True)
    assert dd_after(done, "Refund") == refund  # the terms it was cancelled under are the terms shown


def test_a_booking_that_may_not_be_cancelled_says_so_and_offers_no_button(browser, session):
    make_visit(session, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "refuse"}}})
    booking = place(session, 1)
    browser.log_in(1)

    html = browser.page(f"{SITE}/bookings/{booking.public_id}/cancel")

    assert 'role="alert"' in html and 'action="/t/tenant-a/bookings/' not in html
    refused = browser.post(f"{SITE}/bookings/{booking.public_id}/cancel")
    assert refused.status_code == 409
    assert fresh_booking(session, "tenant-a", booking.public_id).status is BookingStatus.confirmed


def test_cancelling_twice_is_refused_on_the_page(browser, session):
    make_visit(session)
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/cancel")
    browser.post(f"{SITE}/bookings/{booking.public_id}/cancel")

    assert browser.post(f"{SITE}/bookings/{booking.public_id}/cancel").status_code == 409
    assert browser.get(f"{SITE}/bookings/{booking.public_id}/cancel").status_code == 409


def test_cancel_without_the_csrf_token_is_a_400_page_and_cancels_nothing(browser, session):
    make_visit(session)
    booking = place(session, 1)
    browser.log_in(1)

    response = browser.post(f"{SITE}/bookings/{booking.public_id}/cancel", csrf=False)

    assert response.status_code == 400 and response.mimetype == "text/html"
    assert fresh_booking(session, "tenant-a", booking.public_id).status is BookingStatus.confirmed


# --- reschedule ----------------------------------------------------------------------------------


def test_reschedule_page_offers_the_days_free_slots_and_moves_the_booking(browser, session):
    make_visit(session)
    booking = place(session, 1, starts_at=slot(9))
    browser.log_in(1)
    day = slot(9).date().isoformat()

    html = browser.page(f"{SITE}/bookings/{booking.public_id}/reschedule?day={day}")

    assert f'value="{slot(10).isoformat()}"' in html and f'value="{slot(9).isoformat()}"' not in html
    assert 'aria-current="date"' in html
    moved = browser.post(f"{SITE}/bookings/{booking.public_id}/reschedule?day={day}", {"starts_at": slot(10).isoformat()})
    assert moved.status_code == 303 and moved.headers["Location"] == f"{SITE}/bookings/{booking.public_id}"
    assert fresh_booking(session, "tenant-a", booking.public_id).starts_at == slot(10)


@pytest.mark.parametrize("starts_at", ["", "tomorrow", "2026-13-45T99:00", "2026-12-09T09:00:00", "9" * 100, "0001-01-01T00:00:00+00:00"])
def test_a_hostile_new_time_is_refused_on_the_page(browser, session, starts_at):
    make_visit(session)
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/reschedule")

    response = browser.post(f"{SITE}/bookings/{booking.public_id}/reschedule", {"starts_at": starts_at})

    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)


def test_a_time_that_is_no_slot_is_refused_on_the_page(browser, session):
    make_visit(session)
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/reschedule")

    response = browser.post(f"{SITE}/bookings/{booking.public_id}/reschedule", {"starts_at": slot(9).replace(minute=17).isoformat()})

    assert response.status_code == 409
    assert fresh_booking(session, "tenant-a", booking.public_id).starts_at == slot(9)


@pytest.mark.parametrize("day", ["", "2026-02-30", "yesterday", "1999-01-01", "9999-12-31", "2026-01-01' OR 1=1"])
def test_a_hostile_day_shows_the_first_day_of_the_strip(browser, session, day):
    make_visit(session)
    booking = place(session, 1)
    browser.log_in(1)

    assert browser.get(f"{SITE}/bookings/{booking.public_id}/reschedule", query_string={"day": day}).status_code == 200


def test_a_booking_past_its_reschedule_limit_says_so(browser, session):
    make_visit(session, policies={"reschedule": {"max_per_booking": 1}})
    booking = place(session, 1, starts_at=slot(9))
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/reschedule")
    browser.post(f"{SITE}/bookings/{booking.public_id}/reschedule", {"starts_at": slot(10).isoformat()})

    html = browser.page(f"{SITE}/bookings/{booking.public_id}/reschedule")

    assert 'role="alert"' in html and 'name="starts_at"' not in html


# --- points and credits --------------------------------------------------------------------------


def test_points_page_shows_the_balance_and_the_lines(browser, session, tenants):
    make_visit(session, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 5}}})
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/cancel")
    browser.post(f"{SITE}/bookings/{booking.public_id}/cancel")

    response = browser.get(f"{SITE}/me/points")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.search(r'class="balance points-balance">-5<', html)
    assert "Late cancellation" in html and "-5</strong>" in html


def test_points_page_sends_a_visitor_to_log_in(browser):
    assert browser.get(f"{SITE}/me/points").headers["Location"] == f"{SITE}/login?next=/t/tenant-a/me/points"
