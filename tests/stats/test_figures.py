"""The statistics of the seeded Berlin weekend (``stats_setup``), each checked against the answer worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from stats_setup import BERLIN, SATURDAY, SPRING_SUNDAY, SUNDAY, local
from tenant_setup import make_booking_type, make_coach, make_tenant, windows

from yuyue.bookings import operations as ops
from yuyue.catalog.models import BookingType
from yuyue.db import tenant_scope
from yuyue.errors import InvalidInput
from yuyue.forms.registry import form_registry
from yuyue.stats import figures
from yuyue.stats.period import Period, period_from_query

SUN, SAT = 6, 5
AUTUMN = Period(SATURDAY, SUNDAY, BERLIN)


@pytest.fixture
def scoped(session, berlin, other_tenant):
    tenant, _ = berlin
    with tenant_scope(tenant.id):
        yield session


def test_bookings_are_counted_by_status_with_cancellation_and_no_show_rates(scoped):
    found = figures.summary(scoped, AUTUMN)
    assert found.by_status == {"checked_in": 3, "no_show": 1, "cancelled": 2, "confirmed": 1, "expired": 1}
    assert (found.placed, found.kept, found.places) == (7, 5, 10)
    assert found.cancellation_rate == round(2 / 7, 4)  # cancelled over placed (expired holds were never placed)
    assert found.no_show_rate == 0.25  # no-shows over the four whose attendance was recorded; Saturday's confirmed booking is not among them


def test_utilisation_counts_every_slot_of_the_period_including_those_nobody_booked(scoped):
    found = figures.summary(scoped, AUTUMN).utilisation
    # tour: 4 slots a day, guided: 1, ten places each, two days; taken: 2 + 1 (no-show) + 3 + 1 + 3 (paid, checked in)
    assert (found.slots, found.capacity, found.taken, found.rate) == (10, 100, 10, 0.1)


def test_revenue_is_what_was_paid_less_what_was_refunded_in_fen(scoped):
    (revenue,) = figures.summary(scoped, AUTUMN).revenue
    assert (revenue.currency, revenue.collected, revenue.refunded, revenue.net) == ("CNY", 17000, 5000, 12000)


def test_heatmap_puts_bookings_either_side_of_the_autumn_change_in_their_local_hour(scoped):
    cells = {(c.weekday, c.hour): (c.bookings, c.places) for c in figures.heatmap(scoped, AUTUMN)}
    assert len(cells) == 7 * 24
    assert cells[SUN, 1] == (1, 2)  # 23:00 UTC on Saturday, summer time
    assert cells[SUN, 2] == (1, 1)  # 00:00 UTC: the first pass of the repeated hour
    assert cells[SUN, 3] == (1, 3)  # 02:00 UTC, winter time: not 04 (as a fixed +02:00 would put it), the cancelled one not counted
    assert cells[SUN, 10] == (1, 3)
    assert cells[SAT, 10] == (1, 1)  # the cancelled guided visit is not counted
    assert sum(bookings for bookings, _ in cells.values()) == 5
    assert cells[SUN, 4] == cells[SUN, 0] == cells[SAT, 23] == (0, 0)


def test_heatmap_on_the_spring_change_has_nothing_in_the_hour_that_does_not_exist(scoped):
    cells = {(c.weekday, c.hour): c.bookings for c in figures.heatmap(scoped, Period(SPRING_SUNDAY, SPRING_SUNDAY, BERLIN))}
    assert (cells[SUN, 1], cells[SUN, 2], cells[SUN, 3]) == (1, 0, 1)  # 00:00 and 01:00 UTC: an hour apart, two wall-clock hours apart


def test_both_passes_of_a_repeated_hour_are_that_hours_cell():
    first, second = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert figures.hour_of_week(first, BERLIN) == figures.hour_of_week(second, BERLIN) == (SUN, 2)


def test_slots_of_the_spring_change_skip_the_missing_hour(scoped):
    slots = figures.slot_figures(scoped, Period(SPRING_SUNDAY, SPRING_SUNDAY, BERLIN))
    tour = [s.local_start(BERLIN).hour for s in slots if s.booking_type == "tour"]
    assert tour == [1, 3, 10]
    assert sum(s.capacity for s in slots) == 40 and sum(s.taken for s in slots) == 3


def test_busiest_slot_is_the_sunday_three_oclock_tour(scoped):
    busiest = figures.busiest_slots(figures.slot_figures(scoped, AUTUMN))
    assert [(s.booking_type, s.local_start(BERLIN).replace(tzinfo=None).isoformat(), s.taken) for s in busiest[:2]] == [
        ("tour", "2026-10-25T03:00:00", 3),
        ("guided", "2026-10-25T10:00:00", 3),
    ]
    assert busiest[0].utilisation == 0.3
    assert all(s.taken > 0 for s in busiest)


def test_booking_types_are_ranked_by_kept_bookings_with_their_revenue(scoped):
    rows = figures.by_booking_type(scoped, AUTUMN)
    assert [(r.slug, r.bookings, r.places, r.cancelled, r.no_shows) for r in rows] == [("tour", 4, 7, 1, 1), ("guided", 1, 3, 1, 0)]
    assert [(m.currency, m.net) for m in rows[1].revenue] == [("CNY", 12000)] and rows[0].revenue == ()


def test_ticket_types_are_ranked_by_places_sold(scoped):
    rows = figures.ticket_figures(scoped, AUTUMN)
    assert [(t.booking_type, t.ticket, t.label["en"], t.places) for t in rows] == [("guided", "adult", "Adult", 2), ("guided", "child", "Child", 1)]


def test_a_booking_type_filter_counts_only_its_bookings_and_slots(scoped):
    guided = scoped.scalar(select(BookingType).where(BookingType.slug == "guided"))
    found = figures.summary(scoped, Period(SATURDAY, SUNDAY, BERLIN, guided))
    assert (found.placed, found.kept, found.utilisation.capacity, found.utilisation.taken) == (2, 1, 20, 3)


def test_another_tenants_bookings_on_the_same_day_are_never_counted(scoped):
    found = figures.summary(scoped, AUTUMN)
    assert found.placed == 7 and found.utilisation.capacity == 100
    assert [r.slug for r in figures.by_booking_type(scoped, AUTUMN)] == ["tour", "guided"]


def test_default_period_is_the_last_thirty_days_up_to_today(scoped):
    period = period_from_query(scoped, {}, BERLIN, date(2026, 10, 25))
    assert (period.first, period.last) == (date(2026, 9, 26), date(2026, 10, 25))


@pytest.mark.parametrize(
    ("args", "pointer", "code"),
    [
        ({"from": "2026-13-01"}, "/from", "invalid_date"),
        ({"from": "20261001"}, "/from", "invalid_date"),
        ({"to": "1999-12-31"}, "/to", "out_of_range"),
        ({"from": "9999-12-31"}, "/from", "out_of_range"),  # no default end is worked out from it: 30 days later is no date
        ({"to": "0001-01-01"}, "/to", "out_of_range"),
        ({"from": "2026-10-25", "to": "2026-10-24"}, "/to", "before_from"),
        ({"from": "2025-01-01", "to": "2026-10-24"}, "/to", "period_too_long"),
        ({"booking_type": "nope"}, "/booking_type", "unknown_booking_type"),
        ({"status": "cancelled"}, "/status", "unknown_parameter"),
    ],
)
def test_bad_periods_are_refused_with_the_parameter_named(scoped, args, pointer, code):
    with pytest.raises(InvalidInput) as refused:
        period_from_query(scoped, args, BERLIN, date(2026, 10, 25))
    assert [(p.pointer, p.code) for p in refused.value.errors] == [(pointer, code)]


def test_today_at_a_glance_counts_the_days_bookings_and_check_ins_so_far(scoped):
    today = figures.today_at_a_glance(scoped, BERLIN, local(SUNDAY, 9) + timedelta(minutes=30))
    assert today.day == SUNDAY
    assert (today.bookings, today.places) == (4, 9)  # the no-show counts, the cancelled and expired ones do not
    assert today.checked_in == 2  # 01:00 and 03:00; the guided visit is checked in at 09:50
    assert [(s.booking_type, s.local_start(BERLIN).strftime("%a %H")) for s in today.next_slots] == [
        ("guided", "Sun 10"),
        ("tour", "Sun 10"),
        ("tour", "Mon 01"),
        ("tour", "Mon 02"),
        ("tour", "Mon 03"),
    ]


def test_bookings_are_counted_per_resource_they_hold_by_themselves_or_through_their_slot(app, session):
    """A yoga class holds coach Li for its slot; a private lesson holds a coach per booking; coach Wang teaches nothing."""
    gym = make_tenant(session, "gym", plugins=("course",))
    make_coach(session, gym, "coach-li")
    make_coach(session, gym, "coach-wang")
    make_booking_type(session, gym, "yoga", vertical="course", rules=windows(("09:00", "10:00"), capacity=8), resource_requirements=[{"kind": "coach"}])
    make_booking_type(
        session, gym, "lesson", vertical="course", rules=windows(("11:00", "12:00"), capacity=1), resource_requirements=[{"kind": "coach", "per": "booking"}]
    )
    zone = ZoneInfo(gym.time_zone)
    day = datetime.now(zone).date() + timedelta(days=10)
    booked = [
        ops.book(
            session,
            form_registry(),
            gym,
            booking_type_slug=slug,
            starts_at=datetime.combine(day, time(hour), zone),
            phone=f"1360000000{n}",
            answers={"name": "Gym"},
        )
        for n, (slug, hour) in enumerate((("yoga", 9), ("yoga", 9), ("yoga", 9), ("lesson", 11)))
    ]
    ops.cancel(session, gym, booked[2].public_id, by_staff=True)
    with tenant_scope(gym.id):
        rows = figures.by_resource(session, Period(day, day, zone))
    assert [(r.code, r.kind, r.bookings, r.places) for r in rows] == [("coach-li", "coach", 3, 3)]
