"""Resources and the week's schedule on a 360 px phone in Chromium: usable without sideways scrolling, nothing from outside the server, no script error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tenant_setup import make_booking_type, make_coach, windows

from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import add_staff_member, create_tenant
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

PASSWORD = "pass-word-1"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def signed_in_owner(app, session, page, live_server):
    tenant = create_tenant(session, plugin_host(), slug="gym", name="Gym", plugins={"course": {}})
    add_staff_member(session, app.appbuilder.sm, tenant_slug="gym", username="gym-owner", role=StaffRole.owner, email="g@example.invalid", password=PASSWORD)
    make_coach(session, tenant, "coach-li")
    make_booking_type(
        session, tenant, "spin", vertical="course", name={"zh-Hans": "动感单车", "en": "Spin"}, rules=windows(("07:00", "08:00"), ("18:00", "19:00"))
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login/")
    page.fill("input[name=username]", "gym-owner")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state()
    return page


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_coachs_hours_are_edited_on_a_phone_with_the_add_and_remove_buttons(signed_in_owner, live_server):
    page = signed_in_owner
    page.goto(f"{live_server}/admin/t/gym/resources/coach-li/")
    assert fits_the_phone(page)

    page.click("button[value=add-mon]")
    page.fill("input[name=hours-mon-0-start]", "09:00")
    page.fill("input[name=hours-mon-0-end]", "12:00")
    page.click("button[value=add-mon]")
    page.fill("input[name=hours-mon-1-start]", "14:00")
    page.fill("input[name=hours-mon-1-end]", "18:00")
    page.click("button[value=remove-mon-0]")
    assert page.input_value("input[name=hours-mon-0-start]") == "14:00"
    page.locator("p.actions button[value=save]").click()
    page.wait_for_load_state()

    assert page.url.endswith("/admin/t/gym/resources/")
    assert "14:00–18:00" in page.inner_text("table.resources")
    assert fits_the_phone(page)
    assert page.watch.foreign_requests == [] and page.watch.errors == []


def test_the_week_stacks_its_days_on_a_phone(signed_in_owner, live_server):
    page = signed_in_owner
    day = utcnow().date() + timedelta(days=7)
    year, week, _ = day.isocalendar()
    page.goto(f"{live_server}/admin/t/gym/schedule/?week={year}-W{week:02d}")

    days = page.locator("section.week-day")
    assert days.count() == 7
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second["y"] > first["y"] and abs(second["x"] - first["x"]) < 1, "the days are stacked, not side by side"
    assert page.locator("article.slot").count() == 14
    assert fits_the_phone(page)
    assert page.watch.foreign_requests == [] and page.watch.errors == []
