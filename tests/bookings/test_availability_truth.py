"""Availability tells the truth: for random booking types, rules, resources and bookings already made,
every listed slot and channel accepts a booking of one place exactly when it is listed bookable.

Each probe is a real booking through ``bookings.operations.book`` inside a
transaction that is rolled back, so probes do not change what the next one
sees. A refused probe's code must be the counterpart of the listed reason; a
bookable slot also accepts ``remaining`` places and refuses one more.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from tenant_setup import make_booking_type, make_tenant, phone

from yuyue.bookings import operations as ops
from yuyue.bookings.availability import slot_availability
from yuyue.catalog.operations import create_resource
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.errors import DomainError
from yuyue.forms.registry import form_registry
from yuyue.scheduling.models import SlotInventory
from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
MAX_PARTY = 10
# The booking refusal codes each listed reason stands for.
CODES = {
    "sold_out": {"slot_full"},
    "not_released": {"booking_not_open"},
    "closed": {"booking_closed", "slot_closed"},
    "daily_cap": {"daily_cap_reached"},
    "resource_busy": {"resource_conflict"},
}
_phones = itertools.count(50_000)


class ProbeDone(Exception):
    """Raised inside a probe's transaction so that it rolls back."""


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def patterns(draw) -> dict:
    group = draw(st.one_of(st.none(), st.integers(0, 3)))
    capacity = draw(st.integers(1, 6))
    if draw(st.booleans()):
        start = draw(st.sampled_from([8 * 60, 9 * 60 + 30]))
        params = {"weekdays": {day: [{"start": hhmm(start), "end": hhmm(start + 120)}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
        params |= {"slot_minutes": draw(st.sampled_from([30, 60])), "capacity": capacity}
        rule = {"type": "weekly_hours", "params": params}
    else:
        starts = sorted(draw(st.sets(st.sampled_from([8 * 60, 9 * 60, 10 * 60 + 30, 13 * 60]), min_size=1, max_size=3)))
        rule = {"type": "fixed_windows", "params": {"windows": [{"start": hhmm(s), "end": hhmm(s + 60), "capacity": capacity} for s in starts]}}
    if group is not None:
        rule["params"]["capacity_by_channel"] = {"group": min(group, capacity)}
    return rule


@st.composite
def booking_types(draw) -> dict:
    rules = [draw(patterns())]
    if draw(st.booleans()):
        params = {"opens_days_ahead": draw(st.integers(2, 12)), "release_time": draw(st.sampled_from(["00:00", "17:00"]))}
        rules.append({"type": "booking_window", "params": params | {"closes_minutes_before": draw(st.sampled_from([0, 60, 60 * 24 * 3]))}})
    if draw(st.booleans()):
        cap = {}
        if draw(st.booleans()):
            cap["capacity"] = draw(st.integers(1, 8))
        if draw(st.booleans()) or not cap:
            cap["by_channel"] = {draw(st.sampled_from(["group", "default"])): draw(st.integers(0, 4))}
        rules.append({"type": "daily_cap", "params": cap})
    if draw(st.booleans()):
        rules.append({"type": "holiday_throttle", "params": {"calendar": "CN", "capacity_factor": 0.5, "applies_to": "rest_days"}})
    return {
        "rules": rules,
        "resources": draw(st.integers(0, 2)),
        "per_slot": draw(st.booleans()),
        "per_booking": draw(st.booleans()),
        # Another class of the same kind at 09:00-10:00 every day, scheduled first, holding a resource.
        "rival_class": draw(st.booleans()),
        "bookings": draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 1), st.integers(1, 4)), max_size=8)),
        "closed": draw(st.lists(st.integers(0, 40), max_size=2)),
        "first_day": draw(st.integers(1, 8)),
    }


def listing(session, tenant, booking_type, first_day, now, days: int = 1):
    with tenant_scope(tenant.id):
        return slot_availability(session, booking_type, ZONE, first_day, first_day + timedelta(days=days), now)


class StatementCounter:
    """The SQL statements run while it is entered."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


def probe(session, tenant, slug, slot, n, now) -> str:
    """Book ``n`` places of the listed slot and roll back: ``ok`` or the refusal code."""
    try:
        with tenant_scope(tenant.id), write_transaction(session):
            ops.book(
                session,
                form_registry(),
                tenant,
                booking_type_slug=slug,
                starts_at=slot.starts_at,
                phone=phone(next(_phones)),
                answers={"name": "Probe"},
                channel=slot.channel,
                party_size=n,
                now=now,
            )
            raise ProbeDone
    except ProbeDone:
        return "ok"
    except DomainError as refused:
        return refused.code


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(example=booking_types())
def test_a_slot_is_listed_bookable_exactly_when_a_booking_of_one_place_succeeds(app, session, example):
    tenant = _tenant(session)
    now = utcnow().replace(microsecond=0)
    first_day = now.astimezone(ZONE).date() + timedelta(days=example["first_day"])
    kind = f"coach{uuid.uuid4().hex[:8]}"
    for number in range(example["resources"]):
        create_resource(session, tenant, kind=kind, code=f"{kind}-{number}", name={"en": f"Coach {number}"})
    if example["rival_class"]:
        rival = [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": 5}]}}]
        make_booking_type(session, tenant, f"rival-{kind}", vertical="course", rules=rival, resource_requirements=[{"kind": kind}])
    requirements = ([{"kind": kind}] if example["per_slot"] else []) + ([{"kind": kind, "per": "booking"}] if example["per_booking"] else [])
    slug = f"type-{kind}"
    booking_type = make_booking_type(
        session, tenant, slug, vertical="course", rules=example["rules"], resource_requirements=requirements, max_party_size=MAX_PARTY
    )
    listed = listing(session, tenant, booking_type, first_day, now)
    for index, channel, size in example["bookings"]:
        if listed:
            slot = listed[index % len(listed)]
            channel_slot = next((s for s in listed if s.starts_at == slot.starts_at and s.channel == ("default", "group")[channel]), slot)
            try:
                ops.book(session, form_registry(), tenant, booking_type_slug=slug, starts_at=channel_slot.starts_at, phone=phone(next(_phones)),
                         answers={"name": "Early"}, channel=channel_slot.channel, party_size=size, now=now)  # fmt: skip
            except DomainError:
                pass
    for index in example["closed"]:
        if listed:
            with tenant_scope(tenant.id), write_transaction(session):
                row = session.scalars(select(SlotInventory).where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at == listed[index % len(listed)].starts_at)).first()  # fmt: skip
                if row is not None:
                    row.closed_reason = "below_minimum"

    for slot in listing(session, tenant, booking_type, first_day, now):
        outcome = probe(session, tenant, slug, slot, 1, now)
        assert (outcome == "ok") == slot.bookable, (slot, outcome, example)
        if slot.bookable:
            assert slot.remaining >= 1, slot
            if slot.remaining < MAX_PARTY:
                assert probe(session, tenant, slug, slot, slot.remaining, now) == "ok", slot
                assert probe(session, tenant, slug, slot, slot.remaining + 1, now) in {"slot_full", "daily_cap_reached"}, slot
        else:
            assert outcome in CODES[slot.reason], (slot, outcome, example)


def _tenant(session):
    from yuyue.provisioning.operations import get_tenant

    try:
        return get_tenant(session, "museum")
    except DomainError:
        return make_tenant(session)


def test_a_month_with_day_caps_and_resources_is_listed_in_five_selects(app, session):
    tenant = _tenant(session)
    kind = f"coach{uuid.uuid4().hex[:8]}"
    for number in range(2):
        create_resource(session, tenant, kind=kind, code=f"{kind}-{number}", name={"en": f"Coach {number}"})
    hours = {day: [{"start": "08:00", "end": "20:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    rules = [
        {"type": "weekly_hours", "params": {"weekdays": hours, "slot_minutes": 60, "capacity": 4, "capacity_by_channel": {"group": 1}}},
        {"type": "daily_cap", "params": {"capacity": 30, "by_channel": {"group": 5}}},
    ]
    slug = f"type-{kind}"
    booking_type = make_booking_type(
        session, tenant, slug, vertical="course", rules=rules, resource_requirements=[{"kind": kind}, {"kind": kind, "per": "booking"}], max_party_size=4
    )
    now = utcnow()
    first_day = now.astimezone(ZONE).date() + timedelta(days=1)
    for hour in (8, 9, 13):
        starts_at = datetime.combine(first_day, time(hour), ZONE)
        ops.book(session, form_registry(), tenant, booking_type_slug=slug, starts_at=starts_at, phone=phone(next(_phones)), answers={"name": "A"}, now=now)
    session.commit()

    counts = []
    for days in (0, 30):
        with StatementCounter() as counter:
            listed = listing(session, tenant, booking_type, first_day, now, days=days)
        counts.append(len([s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]))
    assert len(listed) == 31 * 12 * 2
    assert counts == [5, 5]  # slot rows, day rows, resources, what holds them, which slots hold theirs
