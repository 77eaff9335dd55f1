"""The ``capacity_added`` hook: the catalog announces slots that gained places, and only plugins the tenant enabled hear it.

The host's own implementation (offering the places to the slot's waitlist) is
shown through the merchant API in ``tests/merchant_api/test_merchant_capacity_changes.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import windows

from yuyue.catalog.operations import create_booking_type, update_booking_type
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.plugins import PluginHost, make_plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.scheduling.inventory import take_slot_capacity
from yuyue.scheduling.registry import build_slot_rules
from yuyue.scheduling.slots import slot_at
from yuyue.tenancy.models import Tenant

RECORDER = """
    from yuyue import hookimpl

    calls = []

    @hookimpl
    def capacity_added(inventory_ids, now, settings):
        calls.append((list(inventory_ids), dict(settings)))
"""
NAME_FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text"}}}


def nine_oclock_booked(session, host: PluginHost, tenant: Tenant, capacity: int) -> int:
    """A booking type whose 09:00 slot next month has one place taken; the slot's inventory row id."""
    rules = windows(("09:00", "10:00"), capacity=capacity)
    booking_type = create_booking_type(
        session,
        host,
        form_registry(),
        build_slot_rules(host),
        tenant,
        vertical="exhibition",
        slug="entry",
        name="Entry",
        availability_rules=rules,
        form=NAME_FORM,
    )
    zone = ZoneInfo(tenant.time_zone)
    day = (datetime.now(UTC) + timedelta(days=30)).astimezone(zone).date()
    slot = slot_at(rules, zone, datetime(day.year, day.month, day.day, 9, tzinfo=zone))
    with tenant_scope(tenant.id):
        return take_slot_capacity(session, booking_type, slot, "default", 1)


def change_capacity(session, host: PluginHost, tenant: Tenant, capacity: int) -> None:
    update_booking_type(
        session, host, form_registry(), build_slot_rules(host), tenant, "entry", availability_rules=windows(("09:00", "10:00"), capacity=capacity)
    )


def test_hook_capacity_added_names_the_slots_that_grew_to_plugins_the_tenant_enabled(app, session, make_plugin):
    make_plugin("recorder", RECORDER)
    host = make_plugin_host()
    recorder = host.manager.get_plugin("recorder")
    with_it = create_tenant(session, host, slug="with-it", name="With", plugins={"exhibition": {}, "recorder": {}})
    without_it = create_tenant(session, host, slug="without-it", name="Without", plugins={"exhibition": {}})
    grown = nine_oclock_booked(session, host, with_it, capacity=1)
    nine_oclock_booked(session, host, without_it, capacity=1)

    change_capacity(session, host, with_it, capacity=3)
    change_capacity(session, host, without_it, capacity=3)

    assert recorder.calls == [([grown], {})]


def test_hook_capacity_added_is_not_called_when_no_slot_grew(app, session, make_plugin):
    make_plugin("recorder", RECORDER)
    host = make_plugin_host()
    recorder = host.manager.get_plugin("recorder")
    tenant = create_tenant(session, host, slug="with-it", name="With", plugins={"exhibition": {}, "recorder": {}})
    nine_oclock_booked(session, host, tenant, capacity=3)

    change_capacity(session, host, tenant, capacity=2)

    assert recorder.calls == []
