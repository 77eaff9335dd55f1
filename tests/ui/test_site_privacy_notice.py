"""Booking with a privacy notice in Chromium at phone width: the merchant's text shown as text (markup and all), a required box
the browser will not submit unticked, and, ticked, the booking made and its consent recorded as given on the site."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select
from tenant_setup import make_booking_type, make_tenant, windows

from yuyue.bookings.models import Consent
from yuyue.catalog.privacy_notices import set_privacy_notice
from yuyue.db import db, tenant_scope

ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
NOTICE = '<b>We</b> keep your name and phone for your booking only.\nAsk us to erase them at any time. <script>alert("x")</script>'


def test_a_customer_reads_the_notice_ticks_the_box_and_books(browser, live_server, session):
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00")))
    set_privacy_notice(session, tenant, "entry", {"en": NOTICE}, actor="staff:1")
    db.session.remove()
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    try:
        page.goto(f"{live_server}/t/museum/book/entry/?lang=en")
        with page.expect_navigation():
            page.locator(".date-strip-days li:nth-child(2) a").click()
        with page.expect_navigation():
            page.locator("a.slot-book").first.click()

        notice, box = page.locator("#f-privacy-notice"), page.locator("#f-privacy-consent")
        expect(notice).to_have_text(NOTICE)
        expect(box).to_have_attribute("required", "")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the form scrolls sideways"
        page.locator('[name="answers.name"]').fill("Lin")
        page.locator('[name="phone"]').fill("13800000001")
        page.locator('form.booking button[type="submit"]').click()
        assert page.evaluate("!document.querySelector('#f-privacy-consent').validity.valid"), "the unticked box let the form go"
        assert "/book/entry/form" in page.url
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "site-privacy-notice-phone.png"), full_page=True)

        box.check()
        with page.expect_navigation():
            page.locator('form.booking button[type="submit"]').click()
        assert "/bookings/" in page.url, page.locator(".field-error").all_inner_texts()
        expect(page.locator(".voucher .booking-status")).to_be_visible()
        assert errors == []
    finally:
        context.close()
    with tenant_scope(tenant.id):
        (consent,) = db.session.scalars(select(Consent)).all()
    assert (consent.notice_version, consent.channel.value) == (1, "site")
