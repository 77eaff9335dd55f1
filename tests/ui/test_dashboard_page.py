"""The dashboard in Chromium, on a phone (390 × 844) and a laptop (1280 × 800): the seeded Berlin weekend's statistics.

No sideways scroll, nothing requested outside the server, no script error; screenshots go to
``$YUYUE_TEST_ARTIFACTS`` (default ``test-artifacts/`` at the repository root).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from stats_setup import make_berlin, seed_autumn

from yuyue.db import db
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole

ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
PASSWORD = "pass-word-1"
VIEWPORTS = {"phone": (390, 844), "laptop": (1280, 800)}


@pytest.fixture
def owner(app, session) -> str:
    tenant = make_berlin(session)
    seed_autumn(session, app, tenant)
    add_staff_member(
        session, app.appbuilder.sm, tenant_slug="berlin", username="owner-berlin", role=StaffRole.owner, email="o@example.invalid", password=PASSWORD
    )
    session.commit()
    db.session.remove()
    return "owner-berlin"


@pytest.mark.parametrize("device", VIEWPORTS)
def test_the_dashboard_reads_on_a_phone_and_a_laptop(page, live_server, owner, device):
    width, height = VIEWPORTS[device]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", owner)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/admin/t/berlin/?from=2026-10-24&to=2026-10-25")

    expect(page.locator("#stats-heading")).to_be_visible()
    assert page.locator("figure.chart svg").count() >= 4  # heatmap, booking types, ticket types, busiest slots
    assert page.locator("figure.chart svg title").count() >= 4
    for svg in page.locator("figure.chart svg").all():
        box = svg.bounding_box()
        assert box is not None and box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    expect(page.locator(".figures .figure").first).to_be_visible()
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{device}.png"), full_page=True)
