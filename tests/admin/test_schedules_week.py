"""The week's schedule: slots by local day and time with places taken and the resources they hold, filtered, one tenant's only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tenant_setup import make_booking_type, make_coach, phone, windows

from yuyue.bookings import operations as bookings
from yuyue.bookings.resources import hold_scheduled_resources
from yuyue.catalog.operations import get_booking_type
from yuyue.db import tenant_scope, write_transaction
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import add_staff_member, create_tenant
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

PASSWORD = "pass-word-1"
COACHED = [{"kind": "coach", "count": 1}]


def week_of(day) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def day_section(page: str, iso_day: str) -> str:
    """The HTML of one day's column of the week."""
    start = page.index(f'<time datetime="{iso_day}">')
    end = page.find('<section class="week-day', start)
    return page[start : end if end > 0 else len(page)]


@pytest.fixture
def berlin(session, app):
    """A course tenant in Berlin with its owner, a coach, and a 09:00 yoga class every day that needs a coach."""
    tenant = create_tenant(session, plugin_host(), slug="berlin", name="Yoga Berlin", time_zone="Europe/Berlin", plugins={"course": {}})
    add_staff_member(
        session, app.appbuilder.sm, tenant_slug="berlin", username="owner-berlin", role=StaffRole.owner, email="o@example.invalid", password=PASSWORD
    )
    make_coach(session, tenant, "coach-anna")
    make_booking_type(
        session,
        tenant,
        "yoga",
        vertical="course",
        name={"zh-Hans": "瑜伽", "en": "Yoga"},
        rules=windows(("09:00", "10:00"), capacity=8),
        resource_requirements=COACHED,
    )
    return tenant


def test_a_class_stays_at_nine_local_across_the_spring_dst_change_with_its_coach(admin_login, berlin, session):
    # Clocks in Berlin go forward on Sunday 29 March 2026: 09:00 is 08:00 UTC on Saturday, 07:00 UTC on Sunday.
    with tenant_scope(berlin.id), write_transaction(session):
        held = hold_scheduled_resources(session, get_booking_type(session, berlin, "yoga"), datetime(2026, 3, 23, tzinfo=UTC))
    assert held > 0

    page = admin_login("owner-berlin").get("/admin/t/berlin/schedule/?week=2026-W13").get_data(as_text=True)

    saturday, sunday = day_section(page, "2026-03-28"), day_section(page, "2026-03-29")
    assert 'data-starts-at="2026-03-28T08:00:00+00:00"' in saturday and ">09:00</time>–10:00" in saturday
    assert 'data-starts-at="2026-03-29T07:00:00+00:00"' in sunday and ">09:00</time>–10:00" in sunday
    assert "李教练" in saturday and "李教练" in sunday and "planned" not in sunday
    assert "0 / 8" in sunday
    assert "Europe/Berlin" in page


def test_places_taken_show_on_the_slot_and_it_links_to_the_desk(admin_login, session, tenants):
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), capacity=20))
    zone = ZoneInfo(tenant.time_zone)
    day = utcnow().astimezone(zone).date() + timedelta(days=9)
    starts_at = datetime(day.year, day.month, day.day, 9, tzinfo=zone)
    bookings.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=starts_at, phone=phone(1), name="Li", answers={"name": "Li"})

    page = admin_login("staff-a").get(f"/admin/t/tenant-a/schedule/?week={week_of(day)}").get_data(as_text=True)

    section = day_section(page, day.isoformat())
    assert "1 / 20" in section and ">09:00</time>–11:00" in section
    assert f"/admin/t/tenant-a/bookings/?booking_type=entry&amp;day={day.isoformat()}" in section


def test_filters_keep_the_slots_of_one_booking_type_or_one_resource(admin_login, session, tenants):
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "yoga", vertical="course", rules=windows(("07:00", "08:00")))
    make_booking_type(session, tenant, "entry", rules=windows(("13:00", "14:00")))
    week = week_of(utcnow().date() + timedelta(days=7))
    owner = admin_login("owner-a")

    only_entry = owner.get(f"/admin/t/tenant-a/schedule/?week={week}&booking_type=entry").get_data(as_text=True)
    assert ">13:00</time>" in only_entry and ">07:00</time>" not in only_entry


def test_the_resource_filter_keeps_the_slots_holding_it(admin_login, session, tenants):
    tenant = tenants["tenant-a"]
    li, wu = make_coach(session, tenant, "coach-li"), make_coach(session, tenant, "coach-wu")
    make_booking_type(
        session, tenant, "early", vertical="course", rules=windows(("07:00", "08:00")), resource_requirements=[{"kind": "coach", "resource_ids": [li.id]}]
    )
    make_booking_type(
        session, tenant, "late", vertical="course", rules=windows(("19:00", "20:00")), resource_requirements=[{"kind": "coach", "resource_ids": [wu.id]}]
    )
    week = week_of(utcnow().date() + timedelta(days=7))

    page = admin_login("owner-a").get(f"/admin/t/tenant-a/schedule/?week={week}&resource=coach-wu").get_data(as_text=True)

    assert ">19:00</time>" in page and ">07:00</time>" not in page


def test_another_tenants_booking_types_and_resources_are_nowhere_in_the_week(admin_login, session, tenants):
    make_coach(session, tenants["tenant-b"], "coach-of-b")
    make_booking_type(session, tenants["tenant-b"], "b-only", name={"zh-Hans": "乙的课", "en": "B class"}, rules=windows(("09:00", "10:00")))
    make_booking_type(session, tenants["tenant-a"], "entry", rules=windows(("09:00", "10:00")))
    owner = admin_login("owner-a")

    page = owner.get("/admin/t/tenant-a/schedule/").get_data(as_text=True)

    assert "coach-of-b" not in page and "b-only" not in page and "乙的课" not in page
    assert owner.get("/admin/t/tenant-a/schedule/?resource=coach-of-b").status_code == 404
    assert owner.get("/admin/t/tenant-a/schedule/?booking_type=b-only").status_code == 404


@pytest.mark.parametrize("week", ["2026-50", "2026-W60", "0000-W01", "9999-W01", "2026-W5\u00e9", "x" * 300])
def test_a_bad_week_is_a_400_page(admin_login, tenants, week):
    assert admin_login("staff-a").get("/admin/t/tenant-a/schedule/", query_string={"week": week}).status_code == 400
