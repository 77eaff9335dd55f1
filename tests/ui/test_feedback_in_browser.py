"""Reviews and feedback in Chromium at a phone's size, with and without JavaScript: a customer rates a finished booking on its page, an owner
replies in the admin inbox, and the customer reads the reply; feedback is sent from its page. Hostile text stays text."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from tenant_setup import make_booking_type, phone
from test_site_account import check_page, log_in, phone_page

from yuyue.bookings import operations as bookings
from yuyue.bookings.checkin import check_in
from yuyue.db import db
from yuyue.forms.registry import form_registry
from yuyue.types import utcnow

SITE = "/t/tenant-a"
PASSWORD = "pass-word-1"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def finished(app, session, tenants) -> str:
    """Customer 1's visit a week ahead, checked in and completed; the application's clock after it."""
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "visit")
    zone = ZoneInfo(tenant.time_zone)
    starts_at = datetime.combine((utcnow().astimezone(zone) + timedelta(days=7)).date(), time(9), zone)
    booking = bookings.book(session, form_registry(), tenant, booking_type_slug="visit", starts_at=starts_at, phone=phone(1), answers={"name": "Li Lei"})
    if booking.voucher_code is None:
        booking = bookings.confirm(session, tenant, booking.public_id)
    check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=starts_at + timedelta(minutes=5))
    bookings.complete(session, tenant, booking.public_id, now=starts_at + timedelta(hours=1))
    app.config["CLOCK"] = lambda: starts_at + timedelta(hours=3)
    public_id = booking.public_id
    db.session.remove()
    return public_id


def rate(page, public_id: str) -> None:
    page.goto(f"{SITE}/bookings/{public_id}")
    check_page(page)
    page.get_by_label("4 of 5").check()
    page.get_by_label("Comment (optional)").fill(f"Good visit {HOSTILE}")
    page.get_by_role("button", name="Send the review").click()
    page.wait_for_url(f"**{SITE}/bookings/{public_id}#review")
    check_page(page)
    expect(page.locator(".review-comment")).to_have_text(f"Good visit {HOSTILE}")


def reply_in_the_inbox(browser, live_server, owner: str) -> None:
    context = browser.new_context(base_url=live_server, locale="en-US", extra_http_headers={"Accept-Language": "en"})
    admin = context.new_page()
    try:
        admin.goto("/login/")
        admin.fill("input[name=username]", owner)
        admin.fill("input[name=password]", PASSWORD)
        admin.locator("input[type=submit], button[type=submit]").first.click()
        admin.wait_for_load_state()
        admin.goto("/lang/en")
        admin.goto("/admin/t/tenant-a/feedback/?kind=review")
        item = admin.locator("article.feedback-item")
        expect(item).to_contain_text(f"Good visit {HOSTILE}")
        item.get_by_label("Reply to the customer").fill("Thank you, see you again")
        item.get_by_role("button", name="Send the reply").click()
        admin.wait_for_load_state()
        expect(admin.locator("p.flash")).to_have_text("Saved.")
        expect(admin.locator("article.feedback-item .feedback-reply")).to_contain_text("Thank you, see you again")
        item.get_by_role("button", name="Mark handled").click()
        admin.wait_for_load_state()
        expect(admin.locator("article.feedback-item")).to_contain_text("Handled")
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_a_customer_rates_a_finished_booking_and_reads_the_reply(app, browser, live_server, finished, owner, javascript):
    context, page = phone_page(browser, live_server, 375, 667, javascript=javascript)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    try:
        log_in(app, page)
        rate(page, finished)
        reply_in_the_inbox(browser, live_server, owner)
        page.reload()
        expect(page.locator(".review .reply-text")).to_have_text("Thank you, see you again")
        assert page.get_by_role("button", name="Send the review").count() == 0
        check_page(page)
    finally:
        context.close()
    assert errors == []


def test_a_customer_sends_feedback_and_sees_it_listed(app, browser, live_server, tenants):
    context, page = phone_page(browser, live_server, 390, 844, javascript=False)
    try:
        log_in(app, page)
        page.get_by_role("link", name="Feedback").click()
        page.wait_for_url(f"**{SITE}/me/feedback")
        check_page(page)
        page.get_by_label("About").select_option("suggestion")
        page.get_by_label("Your message").fill(f"Longer hours {HOSTILE}")
        page.get_by_role("button", name="Send", exact=True).click()
        page.wait_for_url(f"**{SITE}/me/feedback?sent=1")
        check_page(page)
        expect(page.locator(".feedback-item .feedback-comment")).to_have_text(f"Longer hours {HOSTILE}")
        expect(page.locator(".feedback-item")).to_contain_text("A suggestion")
    finally:
        context.close()
