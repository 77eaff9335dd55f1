"""The booking-type builder in Chromium: an owner creates a booking type, adds fields, watches the preview change, sets tickets and publishes."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

PASSWORD = "pass-word-1"
# The designer names the first ID-card field it adds.
ID_CARD_KEY = "id_card_1"
ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


def log_in(page, live_server: str, username: str) -> None:
    """Sign in from a merchant's browser in China: the pages answer in zh-Hans, the words these tests type and read."""
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    page.goto(f"{live_server}/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.locator('input[type="submit"], button[type="submit"]').first.click()
    page.wait_for_url(f"{live_server}/admin/t/tenant-a/")


def add_field(page, kind: str) -> int:
    """Add a field of ``kind`` with the designer's button; its index."""
    page.select_option("#new_type", kind)
    page.click('button[name="action"][value="add"]')
    page.wait_for_load_state()
    return page.locator(".field-card").count() - 1


def build_and_publish_yoga(page, live_server: str) -> None:
    """The owner's whole build of ``yoga`` (course vertical): an ID-card field, a select ``kind``, a ``school`` field shown only
    for students, adult and student tickets, then publish (the ID-card field's key is :data:`ID_CARD_KEY`)."""
    page.goto(f"{live_server}/admin/t/tenant-a/booking-types/new")
    page.check('input[name="vertical"][value="course"]')
    page.fill("#slug", "yoga")
    page.fill('input[name="name.zh-Hans"]', "瑜伽课")
    page.click('button[type="submit"]:has-text("Create"), button[type="submit"]:has-text("创建")')
    page.wait_for_url("**/booking-types/yoga/form")

    preview = page.locator("#preview-body")
    expect(preview.locator(f'[name="preview.{ID_CARD_KEY}"]')).to_have_count(0)
    id_card = add_field(page, "id_card")
    expect(preview.locator(f'[name="preview.{ID_CARD_KEY}"]')).to_have_count(1)
    choice = add_field(page, "select")
    school = add_field(page, "text")

    page.fill(f'[name="f{choice}.key"]', "kind")
    page.fill(f'[name="f{choice}.opt0.value"]', "adult")
    page.fill(f'[name="f{choice}.opt0.label.zh-Hans"]', "成人")
    page.fill(f'[name="f{choice}.opt1.value"]', "student")
    page.fill(f'[name="f{choice}.opt1.label.zh-Hans"]', "学生")
    page.fill(f'[name="f{school}.key"]', "school")
    page.fill(f'[name="f{school}.label.zh-Hans"]', "就读学校")
    page.check(f'[name="f{school}.required"]')
    page.check(f'[name="f{id_card}.required"]')
    # The script posts the unsaved form and swaps the preview in.
    expect(preview).to_contain_text("就读学校")
    page.click('.sticky-actions button[value="save"]')
    page.wait_for_load_state()
    page.select_option(f'[name="f{school}.show_if"]', value='["kind", "student"]')
    page.click('.sticky-actions button[value="save"]')
    page.wait_for_load_state()
    school_in_preview = preview.locator('[data-field="preview.school"]')
    expect(school_in_preview).to_be_hidden()
    preview.locator('select[name="preview.kind"]').select_option("student")
    expect(school_in_preview).to_be_visible()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#preview").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "builder.png"))

    page.goto(f"{live_server}/admin/t/tenant-a/booking-types/yoga/tickets")
    page.fill('[name="t0.key"]', "adult")
    page.fill('[name="t0.name.zh-Hans"]', "成人票")
    page.fill('[name="t0.price"]', "80")
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    page.fill('[name="t1.key"]', "student")
    page.fill('[name="t1.name.zh-Hans"]', "学生票")
    page.fill('[name="t1.price"]', "40")
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    expect(page.locator('[name="t1.key"]')).to_have_value("student")

    page.goto(f"{live_server}/admin/t/tenant-a/booking-types/yoga/form")
    page.click('.sticky-actions button[value="publish"]')
    page.wait_for_url("**/booking-types/yoga/versions?from=1&to=2")
    expect(page.locator(".change-list")).to_contain_text("school")
    expect(page.locator(".change-list")).to_contain_text("kind")


def test_an_owner_builds_and_publishes_a_booking_type(page, live_server, owner):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, owner)
    build_and_publish_yoga(page, live_server)
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []


def test_the_builder_fits_a_phone(page, live_server, owner):
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, live_server, owner)
    page.goto(f"{live_server}/admin/t/tenant-a/booking-types/new")
    page.check('input[name="vertical"][value="course"]')
    page.fill("#slug", "yoga")
    page.fill('input[name="name.zh-Hans"]', "瑜伽课")
    page.locator('form button[type="submit"]').click()
    page.wait_for_url("**/booking-types/yoga/form")
    for tab in ("form", "tickets", "rules", "calendar", "versions"):
        page.goto(f"{live_server}/admin/t/tenant-a/booking-types/yoga/{tab}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the {tab} tab scrolls sideways ({width}px)"
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []
