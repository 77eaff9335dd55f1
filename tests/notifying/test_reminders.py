"""Reminders: due once per booking, reminder and start time; on the tenant's wall clock across daylight saving time; never for a cancelled booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from notifying_setup import BERLIN
from sqlalchemy import select
from tenant_setup import phone

import yuyue_schemas
from yuyue.bookings import operations as bookings
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.forms.registry import form_registry
from yuyue.notifying.reminders import emit_due_reminders

# Sunday 28 March 2027: Berlin moves its clocks from 02:00 CET to 03:00 CEST.
SPRING_FORWARD = datetime(2027, 3, 28, tzinfo=BERLIN).date()
BOOKED_AT = datetime(2027, 3, 1, 12, tzinfo=UTC)


def book(session, tenant, starts_at: datetime, *, now: datetime = BOOKED_AT, n: int = 1):
    return bookings.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=starts_at, phone=phone(n), answers={"name": "Li Lei"}, now=now)


def reminders(session, tenant) -> list[dict]:
    with tenant_scope(tenant.id):
        return [event.payload for event in session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "booking.reminder").order_by(OutboxEvent.id))]


def berlin(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def test_without_a_policy_one_reminder_is_emitted_24_hours_before_and_only_once(session, gallery, entry_type):
    entry_type(gallery)
    starts = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    booking = book(session, gallery, starts)

    assert emit_due_reminders(session, now=starts - timedelta(hours=24, minutes=1)) == 0
    assert emit_due_reminders(session, now=starts - timedelta(hours=24)) == 1
    assert emit_due_reminders(session, now=starts - timedelta(hours=23)) == 0
    [payload] = reminders(session, gallery)
    assert payload["booking"] == booking.public_id and payload["offset"] == "1440m"
    assert datetime.fromisoformat(payload["starts_at"]) == starts


def test_an_empty_list_turns_reminders_off(session, gallery, entry_type):
    entry_type(gallery, policies={"reminders": []})
    starts = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    book(session, gallery, starts)
    assert emit_due_reminders(session, now=starts - timedelta(hours=1)) == 0


def test_elapsed_and_wall_clock_reminders_part_across_the_spring_change(session, gallery, entry_type):
    """09:00 CEST on the Sunday of the change is 07:00 UTC; 24 h before is 07:00 UTC Saturday, i.e. 08:00 CET; "the day before at 09:00" is 08:00 UTC."""
    entry_type(gallery, policies={"reminders": [{"minutes_before": 1440}, {"days_before": 1, "at": "09:00"}]})
    starts = berlin(SPRING_FORWARD, 9)
    assert starts.astimezone(UTC) == datetime(2027, 3, 28, 7, tzinfo=UTC)
    book(session, gallery, starts)

    assert emit_due_reminders(session, now=datetime(2027, 3, 27, 6, 59, tzinfo=UTC)) == 0
    assert emit_due_reminders(session, now=datetime(2027, 3, 27, 7, 0, tzinfo=UTC)) == 1  # 24 h of elapsed time: 08:00 on Saturday's clock
    assert emit_due_reminders(session, now=datetime(2027, 3, 27, 7, 59, tzinfo=UTC)) == 0
    assert emit_due_reminders(session, now=datetime(2027, 3, 27, 8, 0, tzinfo=UTC)) == 1  # 09:00 on Saturday's clock
    assert [payload["offset"] for payload in reminders(session, gallery)] == ["1440m", "1d@09:00"]
    assert [datetime.fromisoformat(payload["due_at"]).astimezone(BERLIN).hour for payload in reminders(session, gallery)] == [8, 9]


def test_a_wall_clock_reminder_keeps_its_hour_across_the_autumn_change_in_new_york(session, make_tenant, entry_type):
    from yuyue.plugins import plugin_host
    from yuyue.provisioning.operations import create_tenant

    new_york = ZoneInfo("America/New_York")
    tenant = create_tenant(session, plugin_host(), slug="harbor", name="Harbor", time_zone="America/New_York", locales=["en"], plugins={"exhibition": {}})
    entry_type(tenant, policies={"reminders": [{"days_before": 2, "at": "18:00"}, {"minutes_before": 2 * 1440}]})
    # Sunday 7 November 2027, 09:00 EST (14:00 UTC); clocks went back from EDT at 02:00 that morning.
    starts = datetime(2027, 11, 7, 9, tzinfo=new_york)
    book(session, tenant, starts, now=datetime(2027, 10, 1, tzinfo=UTC))

    assert emit_due_reminders(session, now=datetime(2027, 11, 5, 13, 59, tzinfo=UTC)) == 0
    assert emit_due_reminders(session, now=datetime(2027, 11, 5, 14, 0, tzinfo=UTC)) == 1  # 48 h elapsed: 10:00 EDT on Friday
    assert emit_due_reminders(session, now=datetime(2027, 11, 5, 21, 59, tzinfo=UTC)) == 0
    assert emit_due_reminders(session, now=datetime(2027, 11, 5, 22, 0, tzinfo=UTC)) == 1  # 18:00 EDT on Friday
    due = [datetime.fromisoformat(payload["due_at"]).astimezone(new_york) for payload in reminders(session, tenant)]
    assert [(moment.hour, moment.day) for moment in due] == [(10, 5), (18, 5)]


def test_a_cancelled_booking_gets_no_reminder(session, gallery, entry_type):
    entry_type(gallery)
    starts = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    booking = book(session, gallery, starts)
    bookings.cancel(session, gallery, booking.public_id, now=BOOKED_AT + timedelta(hours=1))
    assert emit_due_reminders(session, now=starts - timedelta(hours=2)) == 0


def test_a_rescheduled_booking_is_reminded_of_its_new_time_only(session, gallery, entry_type):
    entry_type(gallery)
    old = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    new = old + timedelta(days=2, hours=1)
    booking = book(session, gallery, old)
    bookings.reschedule(session, form_registry(), gallery, booking.public_id, starts_at=new, now=BOOKED_AT + timedelta(hours=1))

    assert emit_due_reminders(session, now=old - timedelta(hours=23)) == 0  # the old time's reminder is not due for the moved booking
    assert emit_due_reminders(session, now=new - timedelta(hours=24)) == 1
    [payload] = reminders(session, gallery)
    assert datetime.fromisoformat(payload["starts_at"]) == new


def test_a_booking_made_after_its_reminder_time_gets_only_the_reminders_still_ahead(session, gallery, entry_type):
    entry_type(gallery, policies={"reminders": [{"minutes_before": 1440}, {"minutes_before": 60}]})
    starts = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    book(session, gallery, starts, now=starts - timedelta(hours=3))

    assert emit_due_reminders(session, now=starts - timedelta(hours=2)) == 0  # 24 h before was before it was booked
    assert emit_due_reminders(session, now=starts - timedelta(minutes=59)) == 1
    assert [payload["offset"] for payload in reminders(session, gallery)] == ["60m"]


def test_a_reminder_reaches_the_customer_and_can_be_muted(app, session, gallery, entry_type, deliver, signed_in_customer):
    entry_type(gallery)
    starts = berlin(SPRING_FORWARD - timedelta(days=7), 9)
    book(session, gallery, starts, n=1)
    book(session, gallery, starts, n=2)
    deliver(gallery)  # the confirmations
    muted = signed_in_customer(2, tenant="gallery")
    assert muted.put("/api/v1/t/gallery/me/notifications", json={"muted": ["booking.reminder"]}).status_code == 200

    emit_due_reminders(session, now=starts - timedelta(hours=24))
    [payload] = deliver(gallery)
    assert payload["to"] == phone(1)
    assert payload["subject"] == "Reminder: Visit on Mar 21, 2027 09:00"


@pytest.mark.parametrize(
    "reminders",
    [
        [{"minutes_before": 60}] * 4,
        [{"minutes_before": 0}],
        [{"days_before": 1, "at": "24:00"}],
        [{"days_before": 1}],
        [{"minutes_before": 60, "at": "09:00"}],
        [{"days_before": 31, "at": "09:00"}],
    ],
)
def test_the_policy_schema_refuses_malformed_reminders(reminders):
    assert yuyue_schemas.problems("policies", {"reminders": reminders})


def test_the_policy_schema_accepts_up_to_three_reminders_of_either_kind():
    assert (
        yuyue_schemas.problems("policies", {"reminders": [{"minutes_before": 120}, {"days_before": 0, "at": "07:30"}, {"days_before": 1, "at": "18:00"}]}) == []
    )
