"""The customer's account pages in Chromium at phone sizes: log in by code, see one's bookings, cancel after reading the terms (also without
JavaScript), edit a saved companion and download one's data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from tenant_setup import id_number, make_booking_type, phone

from yuyue.bookings import operations as bookings
from yuyue.bookings.customer_account import save_companion
from yuyue.customers.operations import customer_for_phone
from yuyue.db import db, tenant_scope
from yuyue.events.channels import sent_messages
from yuyue.forms.registry import form_registry
from yuyue.types import utcnow

SITE = "/t/tenant-a"
LATE_POINTS = {"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 5}}}
# Every visible form control and the ids of the labels that name it, in the page.
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(c => !(c.id && document.querySelector(`label[for="${c.id}"]`)) && !c.closest('label'))
  .map(c => c.outerHTML)"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def booking(session, tenants):
    """Customer 1's booking at tenant-a, a week ahead; cancelling it now is late and costs 5 points."""
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "visit", policies=LATE_POINTS)
    zone = ZoneInfo(tenant.time_zone)
    starts_at = datetime.combine((utcnow().astimezone(zone) + timedelta(days=7)).date(), time(9), zone)
    booked = bookings.book(session, form_registry(), tenant, booking_type_slug="visit", starts_at=starts_at, phone=phone(1), answers={"name": "Li Lei"})
    public_id = booked.public_id
    db.session.remove()
    return public_id


def phone_page(browser, live_server, width: int, height: int, *, javascript: bool = True):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", java_script_enabled=javascript, base_url=live_server)
    return context, context.new_page()


def check_page(page) -> None:
    """What every page owes a phone: no sideways scrolling, a label on every control."""
    assert page.evaluate(SIDEWAYS) <= 0, page.url
    assert page.evaluate(UNLABELLED) == [], page.url


def log_in(app: Flask, page) -> None:
    page.goto(f"{SITE}/login")
    check_page(page)
    page.get_by_label("Mobile number").fill(phone(1))
    page.get_by_role("button", name="Send the code").click()
    page.wait_for_url(f"**{SITE}/login/code")
    check_page(page)
    code = next(m.params["code"] for m in reversed(sent_messages(app)) if m.to == phone(1))
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{SITE}/me/bookings")


def cancel_after_reading_the_terms(page, public_id: str) -> None:
    check_page(page)
    page.locator(f'a[href="{SITE}/bookings/{public_id}/cancel"]').click()
    page.wait_for_url(f"**/bookings/{public_id}/cancel")
    check_page(page)
    terms = page.locator("dl.terms")
    assert "Points deducted" in terms.inner_text() and terms.locator(".points-deducted").inner_text() == "5"
    page.get_by_role("button", name="Cancel the booking on these terms").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Booking cancelled").is_visible()
    check_page(page)


@pytest.mark.parametrize(("width", "height"), [(375, 667), (390, 844)])
def test_log_in_by_code_see_my_bookings_and_cancel_after_the_terms(app, browser, live_server, booking, width, height):
    context, page = phone_page(browser, live_server, width, height)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(app, page)
        assert page.locator(f'a[href="{SITE}/bookings/{booking}"]').is_visible()
        cancel_after_reading_the_terms(page, booking)
        page.goto(f"{SITE}/me/points")
        check_page(page)
        assert page.locator(".points-balance").inner_text() == "-5"
    finally:
        context.close()
    assert errors == []


def test_the_same_with_javascript_off(app, browser, live_server, booking):
    context, page = phone_page(browser, live_server, 375, 667, javascript=False)
    try:
        log_in(app, page)
        cancel_after_reading_the_terms(page, booking)
        page.goto(f"{SITE}/me/bookings")
        assert "Cancelled" in page.locator(f'article:has(a[href="{SITE}/bookings/{booking}"])').inner_text()
    finally:
        context.close()


@contextmanager
def signed_in_on_a_phone(app: Flask, browser, live_server) -> Iterator:
    """Customer 1 logged in on a 375×667 page; the page may raise no script error."""
    context, page = phone_page(browser, live_server, 375, 667)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(app, page)
        yield page
    finally:
        context.close()
    assert errors == []


def test_edit_a_companion_and_download_my_data(app, browser, live_server, session, tenants):
    with tenant_scope(tenants["tenant-a"].id):
        save_companion(session, customer_for_phone(session, phone(1)), "Li Xiaoming", id_number(date(2010, 5, 1), 31), relation="son")
    db.session.remove()
    with signed_in_on_a_phone(app, browser, live_server) as page:
        page.get_by_role("link", name="My companions").click()
        page.wait_for_url(f"**{SITE}/me/companions")
        check_page(page)
        page.get_by_role("link", name="Edit Li Xiaoming").click()
        page.wait_for_url("**/me/companions/*")
        check_page(page)
        page.get_by_label("Name", exact=True).fill("Li Xiaohong")
        page.get_by_label("Relation (optional)").fill("daughter")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"**{SITE}/me/companions")
        check_page(page)
        assert page.locator(".companion-name").inner_text() == "Li Xiaohong"
        page.get_by_role("link", name="My profile").click()
        page.wait_for_url(f"**{SITE}/me/profile")
        check_page(page)
        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download my data").click()
        download = downloading.value
        assert download.suggested_filename.startswith("yuyue-data-tenant-a-") and download.suggested_filename.endswith(".json")
        data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
        assert [(c["name"], c["relation"]) for c in data["companions"]] == [("Li Xiaohong", "daughter")]
