"""The webhooks and message-template pages in Chromium: an owner adds an endpoint, sees its secret once, and previews a template.

Plain forms, no script needed; nothing requested outside the server, no script error. Screenshots
go to ``$YUYUE_TEST_ARTIFACTS`` (default ``test-artifacts/`` at the repository root).
"""

from __future__ import annotations

import os
from pathlib import Path

from browser_sign_in import sign_in
from playwright.sync_api import expect

ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


def test_an_owner_adds_an_endpoint_sees_the_secret_once_and_previews_a_template(page, live_server, owner):
    page.set_extra_http_headers({"Accept-Language": "en"})
    sign_in(page, live_server, owner, language="en")

    page.goto(f"{live_server}/admin/t/tenant-a/webhooks/")
    page.fill("#url", "https://crm.example.com/hooks")
    page.fill("#description", "Our CRM")
    page.check("input[name=topics][value='booking.confirmed']")
    page.check("input[name=topics][value='booking.cancelled']")
    page.locator("form.webhook-add button[type=submit]").click()
    page.wait_for_load_state()

    secret = page.locator("#new-secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.locator("table.webhooks")).to_contain_text("https://crm.example.com/hooks")
    page.goto(f"{live_server}/admin/t/tenant-a/webhooks/")
    assert page.locator("#new-secret").count() == 0 and secret not in page.content()
    page.locator("table.webhooks a", has_text="crm.example.com").click()
    page.wait_for_load_state()
    expect(page.locator("#url")).to_have_value("https://crm.example.com/hooks")
    assert secret not in page.content()

    page.goto(f"{live_server}/admin/t/tenant-a/notifications/templates/")
    page.locator("a[href$='/booking.confirmed/log/en']").click()
    page.wait_for_load_state()
    page.fill("#body", "Hello {{ 40 + 2 }}: your booking is confirmed.")
    page.locator("button[value=preview]").click()
    page.wait_for_load_state()
    expect(page.locator(".preview-text")).to_contain_text("Hello 42: your booking is confirmed.")
    expect(page.locator("#body")).to_have_value("Hello {{ 40 + 2 }}: your booking is confirmed.")
    page.locator("button[value=save]").click()
    page.wait_for_load_state()
    expect(page.locator("p.flash")).to_contain_text("The template is saved.")

    assert page.watch.foreign_requests == []
    assert page.watch.errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notification-template.png"), full_page=True)
