"""The customers pages in Chromium: an owner searches, opens a customer, adjusts the points and lifts a ban, on a phone and on a desktop.

Plain forms, no script needed; nothing requested outside the server, no script error, no sideways
scrolling on a phone, a label for every control. Screenshots go to ``$YUYUE_TEST_ARTIFACTS``
(default ``test-artifacts/`` at the repository root).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_sign_in import sign_in
from playwright.sync_api import expect

from yuyue.bookings.customer_records import impose_ban
from yuyue.bookings.placement import SYSTEM
from yuyue.customers.operations import customer_for_phone
from yuyue.db import db, tenant_scope
from yuyue.types import utcnow

ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
VIEWPORTS = {"phone": {"width": 360, "height": 800}, "desktop": {"width": 1280, "height": 800}}
SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
UNLABELLED_CONTROLS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type) && !(el.labels && el.labels.length))
  .map(el => el.outerHTML.slice(0, 120))"""
# A name and a reason long enough, and marked up enough, to break a careless layout.
LONG_NAME = "Wang Fang <b>" + "王" * 60
LONG_REASON = "Shouted at the front desk, " * 6


@pytest.fixture
def banned_customer(session, tenants) -> int:
    """tenant-a's Wang Fang, banned for 30 days, and two other customers the search must leave out."""
    tenant = tenants["tenant-a"]
    with tenant_scope(tenant.id):
        wang = customer_for_phone(session, "13900001111", LONG_NAME)
        customer_for_phone(session, "13700002222", "Zhao Min")
        customer_for_phone(session, "13600003333", "Li Lei")
    impose_ban(session, tenant, wang.id, reason=LONG_REASON[:200], now=utcnow(), days=30, actor=SYSTEM)
    db.session.remove()
    return wang.id


def looks_right(page, viewport: str, name: str) -> None:
    """No sideways scrolling on a phone, every control labelled, nothing from outside, no script error; a screenshot."""
    if viewport == "phone":
        assert page.evaluate(SIDEWAYS_SCROLL) <= 0, f"{name} scrolls sideways on a phone"
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.watch.foreign_requests == [] and page.watch.errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"customers-{name}-{viewport}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_an_owner_finds_a_customer_adjusts_points_and_lifts_a_ban(page, live_server, owner, banned_customer, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    page.set_extra_http_headers({"Accept-Language": "en"})
    sign_in(page, live_server, owner, language="en")

    page.goto(f"{live_server}/admin/t/tenant-a/")
    page.locator("nav.sidebar a", has_text="Customers").click()
    page.wait_for_load_state()
    page.fill("#q", "wang")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("table.customers tbody tr")).to_have_count(1)
    expect(page.locator("table.customers")).to_contain_text("13900001111")  # an owner sees the phone in full
    looks_right(page, viewport, "search")

    name = page.locator("table.customers a", has_text="Wang Fang")
    # A long name keeps a readable column (the table scrolls inside its frame) instead of standing two
    # characters wide and taller than the screen, where the sticky top bar covered the link.
    assert name.bounding_box()["width"] >= 100
    name.click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text(LONG_NAME)
    page.fill("#points-delta", "20")
    page.fill("#points-reason", "Welcome gift")
    page.locator("form#points button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("p.flash")).to_contain_text("The points are adjusted.")
    expect(page.locator(".points-balance")).to_have_text("20")
    expect(page.locator("table.ledger")).to_contain_text("Welcome gift")

    page.fill("form.lift input[name=reason]", "Apologised")
    page.locator("form.lift button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("p.flash")).to_contain_text("The ban is lifted.")
    expect(page.locator("table.bans")).to_contain_text("Ended")
    assert page.locator("form.lift").count() == 0
    looks_right(page, viewport, "customer")
