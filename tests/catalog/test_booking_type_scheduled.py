"""The ``booking_type_scheduled`` hook and the host's answer to it: scheduled slots hold their per-slot resources from the start.

Also the worker's nightly run, which has the slots coming into reach hold theirs.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from tenant_setup import NAME_FORM, make_booking_type, make_coach, make_tenant, windows

from yuyue.bookings.models import ResourceAllocation
from yuyue.bookings.resources import MAX_HORIZON_DAYS
from yuyue.catalog.operations import create_booking_type, update_booking_type
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.plugins import make_plugin_host, plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.registry import current_registry
from yuyue.types import utcnow
from yuyue.worker import hold_resources_due

RECORDER = """
    from yuyue import hookimpl

    calls = []

    @hookimpl
    def booking_type_scheduled(booking_type, now, settings):
        calls.append((booking_type.slug, dict(settings)))
"""
COACH = [{"kind": "coach"}]
# One class a day at 09:00, sold a week ahead.
WEEK_AHEAD = [
    *windows(("09:00", "10:00"), capacity=8),
    {"type": "booking_window", "params": {"opens_days_ahead": 7, "release_time": "00:00", "closes_minutes_before": 0}},
]


def held_slots(session, tenant) -> int:
    """How many slots hold a resource."""
    with tenant_scope(tenant.id):
        return session.scalar(
            select(func.count(func.distinct(SlotInventory.starts_at))).join(ResourceAllocation, ResourceAllocation.inventory_id == SlotInventory.id)
        )


def test_hook_booking_type_scheduled_is_announced_on_creation_and_on_changed_rules_to_plugins_the_tenant_enabled(app, session, make_plugin):
    make_plugin("recorder", RECORDER)
    host = make_plugin_host()
    recorder = host.manager.get_plugin("recorder")
    with_it = create_tenant(session, host, slug="with-it", name="With", plugins={"course": {}, "recorder": {}})
    without_it = create_tenant(session, host, slug="without-it", name="Without", plugins={"course": {}})
    for tenant in (with_it, without_it):
        create_booking_type(
            session,
            host,
            form_registry(),
            current_registry(),
            tenant,
            vertical="course",
            slug="yoga",
            name="Yoga",
            availability_rules=WEEK_AHEAD,
            form=NAME_FORM,
        )
    update_booking_type(session, host, form_registry(), current_registry(), with_it, "yoga", name={"en": "Yoga"})
    update_booking_type(session, host, form_registry(), current_registry(), with_it, "yoga", availability_rules=WEEK_AHEAD)

    assert recorder.calls == [("yoga", {}), ("yoga", {})]  # created, rules changed; a new name schedules nothing


def test_hook_booking_type_scheduled_has_every_slot_within_the_booking_window_hold_its_coach(app, session):
    tenant = make_tenant(session, "studio")
    make_coach(session, tenant)
    make_booking_type(session, tenant, "yoga", vertical="course", rules=WEEK_AHEAD, resource_requirements=COACH)
    zone = ZoneInfo(tenant.time_zone)
    today = utcnow().astimezone(zone).date()
    in_reach = sum(1 for n in range(8) if utcnow() < datetime.combine(today + timedelta(days=n), time(9), zone))
    assert held_slots(session, tenant) == in_reach


def test_hook_booking_type_scheduled_gives_back_what_unbooked_slots_held_when_the_requirements_go(app, session):
    tenant = make_tenant(session, "studio")
    make_coach(session, tenant)
    make_booking_type(session, tenant, "yoga", vertical="course", rules=WEEK_AHEAD, resource_requirements=COACH)
    update_booking_type(session, plugin_host(), form_registry(), current_registry(), tenant, "yoga", resource_requirements=[])
    assert held_slots(session, tenant) == 0


def test_the_worker_has_the_slots_coming_into_reach_hold_their_coach(app, session):
    tenant = make_tenant(session, "studio")
    make_coach(session, tenant)
    make_booking_type(session, tenant, "yoga", vertical="course", rules=WEEK_AHEAD, resource_requirements=COACH)
    before = held_slots(session, tenant)

    assert hold_resources_due(session, now=utcnow() + timedelta(days=3)) == 3  # three more days in reach
    assert held_slots(session, tenant) == before + 3
    assert hold_resources_due(session, now=utcnow() + timedelta(days=3)) == 0


def test_a_window_opening_years_ahead_holds_coaches_only_as_far_as_the_scheduling_horizon(app, session):
    tenant = make_tenant(session, "studio")
    make_coach(session, tenant)
    years_ahead = [*windows(("09:00", "10:00"), capacity=8), {**WEEK_AHEAD[-1], "params": {**WEEK_AHEAD[-1]["params"], "opens_days_ahead": 3000}}]
    make_booking_type(session, tenant, "yoga", vertical="course", rules=years_ahead, resource_requirements=COACH)
    zone = ZoneInfo(tenant.time_zone)
    today = utcnow().astimezone(zone).date()
    in_reach = sum(1 for n in range(MAX_HORIZON_DAYS + 1) if utcnow() < datetime.combine(today + timedelta(days=n), time(9), zone))
    assert held_slots(session, tenant) == in_reach  # not 3,000 days of classes written by one save
