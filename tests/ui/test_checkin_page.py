"""The check-in page on a phone (390×844) in Chromium: a typed code is accepted, typed again it is refused as already used."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from yuyue.db import db
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole

sys.path.insert(0, str(Path(__file__).parent.parent / "admin"))
from desk_setup import at, book_visit, make_museum, set_clock  # noqa: E402

PASSWORD = "pass-word-1"


@pytest.fixture
def door(app: Flask, session, tenants, monkeypatch):
    """A staff member of tenant-a at the door at 08:45 on the day of Wang's 09:00 visit; the booking."""
    add_staff_member(
        session, app.appbuilder.sm, tenant_slug="tenant-a", username="door-a", role=StaffRole.staff, email="door@example.invalid", password=PASSWORD
    )
    make_museum(session, tenants["tenant-a"])
    booking = book_visit(session, tenants["tenant-a"], "13800000001", "王芳")
    set_clock(monkeypatch, at(8, 45))
    db.session.remove()
    return booking


def test_a_code_is_accepted_then_refused_as_already_used_on_a_phone(page, live_server, door):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/login/")
    page.fill("#username", "door-a")
    page.fill("#password", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url(f"{live_server}/admin/t/tenant-a/**")
    page.goto(f"{live_server}/lang/en")  # the assertions read English; zh-Hans is the default

    page.goto(f"{live_server}/admin/t/tenant-a/check-in/")
    code = page.locator("#code")
    expect(code).to_be_focused()
    code.fill(door.voucher_code)
    code.press("Enter")

    verdict = page.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "accept")
    expect(verdict).to_contain_text("王芳")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways on a phone"

    page.locator("#code").fill(door.voucher_code.lower())
    page.locator("#code").press("Enter")

    expect(verdict).to_have_attribute("data-verdict", "refuse")
    expect(page.locator(".verdict-reason")).to_contain_text("Already used")
    expect(page.locator(".checkin-log tbody tr")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []
