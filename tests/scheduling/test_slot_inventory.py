"""Slot inventory: one row per slot and channel, capacity taken by one conditional UPDATE."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from yuyue.db import CrossTenantWrite, TenantContextMissing, db, tenant_scope, write_transaction
from yuyue.scheduling import QUANTUM
from yuyue.scheduling.inventory import InventoryError, inventory_row, quanta, release_capacity, take_capacity, take_slot_capacity
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.slots import generate_slots

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = [
    {
        "type": "fixed_windows",
        "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": 10, "capacity_by_channel": {"individual": 8, "group": 2}}]},
    }
]


@pytest.fixture
def booking_type(make_booking_type):
    return make_booking_type(RULES)


@pytest.fixture
def slot():
    [slot] = generate_slots(RULES, SHANGHAI, date(2026, 6, 15), date(2026, 6, 15))
    return slot


def test_inventory_row_is_created_once_with_the_channels_capacity(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        first = inventory_row(session, booking_type, slot, "individual")
        again = inventory_row(session, booking_type, slot, "individual")
        group = inventory_row(session, booking_type, slot, "group")
        assert first.id == again.id != group.id
        assert (first.capacity, first.taken, first.starts_at, first.ends_at) == (8, 0, slot.starts_at, slot.ends_at)
        assert group.capacity == 2
        assert session.scalar(select(func.count()).select_from(SlotInventory)) == 2


def test_inventory_row_uses_insert_on_conflict_do_nothing(session, tenant, booking_type, slot):
    statements = []
    with tenant_scope(tenant.id):
        listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            inventory_row(session, booking_type, slot, "individual")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT") and not _chains_audit(sql)]
    assert len(inserts) == 1 and "ON CONFLICT" in inserts[0].upper() and "DO NOTHING" in inserts[0].upper()


def test_inventory_row_needs_a_tenant_in_context(session, booking_type, slot):
    with pytest.raises(TenantContextMissing):
        inventory_row(session, booking_type, slot, "individual")


def test_inventory_row_of_an_unknown_channel_is_refused(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id), pytest.raises(KeyError):
        inventory_row(session, booking_type, slot, "vip")


def test_take_capacity_accepts_the_exact_fill_and_refuses_one_more(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row = inventory_row(session, booking_type, slot, "individual")
        assert take_capacity(session, row.id, 5)
        assert not take_capacity(session, row.id, 4)  # 9 > 8
        assert take_capacity(session, row.id, 3)  # exactly 8
        assert not take_capacity(session, row.id, 1)
        assert row.taken == 8  # the loaded row is refreshed, not stale


def test_take_capacity_is_one_conditional_update(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row = inventory_row(session, booking_type, slot, "individual")
        statements = []
        listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
        with write_transaction(session):
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                take_capacity(session, row.id, 2)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
    [update] = statements
    assert update.upper().startswith("UPDATE SLOT_INVENTORY SET TAKEN")
    assert "<=" in update and "tenant_id" in update


def _chains_audit(sql: str) -> bool:
    """A statement of the audit record that the commit appends for the row's change (decisions §24, §34)."""
    return "audit_heads" in sql or "audit_records" in sql


def _statements_of(call):
    statements = []
    listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return result, [s for s in statements if not s.startswith("BEGIN") and not _chains_audit(s)]


def test_take_slot_capacity_creates_the_row_with_the_places_taken(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row_id, statements = _statements_of(lambda: take_slot_capacity(session, booking_type, slot, "individual", 3))
        row = session.get(SlotInventory, row_id)
        assert (row.capacity, row.taken, row.channel, row.starts_at) == (8, 3, "individual", slot.starts_at)
    assert [s.split()[0].upper() for s in statements] == ["UPDATE", "INSERT"]


def test_take_slot_capacity_on_an_existing_row_is_one_conditional_update(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        first = take_slot_capacity(session, booking_type, slot, "individual", 5)
        again, statements = _statements_of(lambda: take_slot_capacity(session, booking_type, slot, "individual", 3))
        assert again == first
        assert take_slot_capacity(session, booking_type, slot, "individual", 1) is None  # 9 > 8
        assert take_slot_capacity(session, booking_type, slot, "group", 2) not in (None, first)  # another channel, another row
        assert session.scalar(select(SlotInventory.taken).where(SlotInventory.id == first)) == 8
    [update] = statements
    assert update.upper().startswith("UPDATE SLOT_INVENTORY SET TAKEN") and "tenant_id" in update


def test_take_slot_capacity_beyond_a_new_slots_capacity_writes_nothing(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        assert take_slot_capacity(session, booking_type, slot, "group", 3) is None  # the group channel has 2
        assert session.scalar(select(func.count()).select_from(SlotInventory)) == 0
        with pytest.raises(KeyError):
            take_slot_capacity(session, booking_type, slot, "walk-in", 1)


def test_take_slot_capacity_refreshes_a_loaded_row(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row = inventory_row(session, booking_type, slot, "individual")
        assert take_slot_capacity(session, booking_type, slot, "individual", 2) == row.id
        assert row.taken == 2


def test_take_slot_capacity_needs_the_booking_types_tenant(app, session, tenant, booking_type, slot):
    from yuyue.plugins import plugin_host
    from yuyue.provisioning import operations

    other = operations.create_tenant(session, plugin_host(app), slug="other", name="Other")
    with tenant_scope(other.id), pytest.raises(CrossTenantWrite):
        take_slot_capacity(session, booking_type, slot, "individual", 1)
    with pytest.raises(TenantContextMissing):
        take_slot_capacity(session, booking_type, slot, "individual", 1)


def test_take_capacity_cannot_touch_another_tenants_row(app, session, tenant, booking_type, slot):
    from yuyue.plugins import plugin_host
    from yuyue.provisioning import operations

    with tenant_scope(tenant.id):
        row_id = inventory_row(session, booking_type, slot, "individual").id
    other = operations.create_tenant(session, plugin_host(app), slug="other", name="Other")
    with tenant_scope(other.id):
        assert not take_capacity(session, row_id, 1)
    with tenant_scope(tenant.id):
        assert session.scalar(select(SlotInventory.taken).where(SlotInventory.id == row_id)) == 0


def test_release_capacity_gives_places_back(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row = inventory_row(session, booking_type, slot, "group")
        assert take_capacity(session, row.id, 2)
        release_capacity(session, row.id, 1)
        assert take_capacity(session, row.id, 1)
        assert row.taken == 2


def test_releasing_more_than_was_taken_is_an_error(session, tenant, booking_type, slot):
    with tenant_scope(tenant.id):
        row = inventory_row(session, booking_type, slot, "group")
        take_capacity(session, row.id, 1)
        with pytest.raises(InventoryError):
            release_capacity(session, row.id, 2)


@pytest.mark.parametrize("n", [0, -1])
def test_take_capacity_needs_a_positive_number(session, n):
    with pytest.raises(ValueError):
        take_capacity(session, 1, n)


def test_quanta_cut_an_interval_into_five_minute_pieces():
    start = datetime(2026, 6, 15, 1, 0, tzinfo=UTC)
    cut = quanta(start, start + timedelta(hours=1))
    assert QUANTUM == timedelta(minutes=5)
    assert len(cut) == 12 and cut[0] == start and cut[-1] == start + timedelta(minutes=55)


def test_quanta_cover_unaligned_bounds_and_are_utc():
    start = datetime(2026, 6, 15, 9, 2, tzinfo=SHANGHAI)
    cut = quanta(start, start + timedelta(minutes=10))
    assert cut == [datetime(2026, 6, 15, 1, m, tzinfo=UTC) for m in (0, 5, 10)]
    assert all(moment.tzinfo is UTC for moment in cut)


def test_overlapping_intervals_share_a_quantum():
    a = quanta(datetime(2026, 6, 15, 1, 0, tzinfo=UTC), datetime(2026, 6, 15, 1, 31, tzinfo=UTC))
    b = quanta(datetime(2026, 6, 15, 1, 30, 30, tzinfo=UTC), datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    assert set(a) & set(b)
    c = quanta(datetime(2026, 6, 15, 1, 30, tzinfo=UTC), datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    d = quanta(datetime(2026, 6, 15, 1, 0, tzinfo=UTC), datetime(2026, 6, 15, 1, 30, tzinfo=UTC))
    assert not set(c) & set(d)


def test_quanta_need_aware_datetimes():
    with pytest.raises(ValueError):
        quanta(datetime(2026, 6, 15, 1, 0), datetime(2026, 6, 15, 2, 0))


def test_concurrent_bookings_never_take_more_than_the_capacity(app, tenant, make_booking_type):
    import threading

    booking_type = make_booking_type([{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": 5}]}}], slug="rush")
    [slot] = generate_slots(booking_type.availability_rules, SHANGHAI, date(2026, 6, 15), date(2026, 6, 15))
    results, barrier = [], threading.Barrier(12)

    def book():
        with app.app_context(), tenant_scope(tenant.id):
            session = db.session()
            barrier.wait()
            with write_transaction(session):
                row = inventory_row(session, booking_type, slot, "default")
                results.append(take_capacity(session, row.id, 1))
            db.session.remove()

    threads = [threading.Thread(target=book) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True] * 5
    with tenant_scope(tenant.id):
        assert db.session.scalars(select(SlotInventory.taken)).all() == [5]
