"""Availability listing: generated slots joined with their inventory rows, read in one query."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from yuyue.db import TenantContextMissing, db, tenant_scope
from yuyue.scheduling.availability import SlotAvailability, list_availability
from yuyue.scheduling.inventory import inventory_row, take_capacity
from yuyue.scheduling.slots import generate_slots

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=SHANGHAI)
SCENIC = [
    {
        "type": "fixed_windows",
        "params": {
            "windows": [{"start": f"{h:02d}:00", "end": f"{h + 1:02d}:00", "capacity": 500} for h in range(8, 17)],
            "capacity_by_channel": {"individual": 400, "group": 100},
        },
    },
    {"type": "booking_window", "params": {"opens_days_ahead": 7, "release_time": "20:00", "closes_minutes_before": 0}},
]
CLASSES = [
    {
        "type": "weekly_hours",
        "params": {
            "weekdays": {d: [{"start": "07:00", "end": "22:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "slot_minutes": 15,
            "capacity": 4,
        },
    }
]


class StatementCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


def test_every_slot_and_channel_is_listed_with_what_remains(session, tenant, make_booking_type):
    booking_type = make_booking_type(SCENIC)
    [slot, *_] = generate_slots(SCENIC, SHANGHAI, date(2026, 6, 2), date(2026, 6, 2))
    with tenant_scope(tenant.id):
        take_capacity(session, inventory_row(session, booking_type, slot, "group").id, 100)
        take_capacity(session, inventory_row(session, booking_type, slot, "individual").id, 15)
        listed = list_availability(session, booking_type, SHANGHAI, date(2026, 6, 2), date(2026, 6, 2), NOW)
    assert len(listed) == 9 * 2
    group, individual = listed[0], listed[1]
    assert group == SlotAvailability(slot.starts_at, slot.ends_at, date(2026, 6, 2), "group", 100, 100, 0, False, "sold_out")
    assert individual == SlotAvailability(slot.starts_at, slot.ends_at, date(2026, 6, 2), "individual", 400, 15, 385, True, None)
    assert {(a.channel, a.remaining) for a in listed[2:]} == {("group", 100), ("individual", 400)}


def test_slots_outside_the_booking_window_say_why(session, tenant, make_booking_type):
    booking_type = make_booking_type(SCENIC)
    with tenant_scope(tenant.id):
        listed = list_availability(session, booking_type, SHANGHAI, date(2026, 6, 1), date(2026, 6, 9), NOW)
    reasons = {a.local_date.day: a.reason for a in listed}
    # now is 2026-06-01 08:00: the 1st's 08:00 slot has started, released days reach to the 7th (6 days ahead at 20:00 yesterday).
    assert reasons[1] is None and listed[0].reason == "closed"
    assert reasons[7] is None
    assert reasons[8] == reasons[9] == "not_released"


def test_thirty_one_days_are_listed_with_a_constant_number_of_statements(session, tenant, make_booking_type):
    booking_type = make_booking_type(CLASSES)
    days = (date(2026, 7, 1), date(2026, 7, 31))
    slots = generate_slots(CLASSES, SHANGHAI, *days)
    with tenant_scope(tenant.id):
        for slot in slots[::7]:
            take_capacity(session, inventory_row(session, booking_type, slot, "default").id, 1)
        session.commit()
        with StatementCounter() as counter:
            listed = list_availability(session, booking_type, SHANGHAI, *days, NOW)
    assert len(listed) == len(slots) == 31 * 60
    assert sum(a.taken for a in listed) == len(slots[::7])
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert len(counter.statements) <= 3  # the SELECT, and at most a BEGIN


def test_listing_needs_the_tenant_in_context(session, tenant, make_booking_type):
    booking_type = make_booking_type(SCENIC)
    with pytest.raises(TenantContextMissing):
        list_availability(session, booking_type, SHANGHAI, date(2026, 6, 2), date(2026, 6, 2), NOW)


def test_a_booking_type_with_no_slots_in_range_lists_nothing_without_a_query(session, tenant, make_booking_type):
    booking_type = make_booking_type([])
    with tenant_scope(tenant.id), StatementCounter() as counter:
        assert list_availability(session, booking_type, SHANGHAI, date(2026, 6, 1), date(2026, 6, 30), NOW) == []
    assert counter.statements == []
