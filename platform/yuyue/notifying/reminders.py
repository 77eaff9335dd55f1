"""Reminders before a booking starts, per booking type (``policies.reminders``): emitted as ``booking.reminder`` outbox events when due.

A reminder is either a time before the start (``{"minutes_before": 120}``: elapsed time) or a
day and a wall-clock time (``{"days_before": 1, "at": "18:00"}``: the tenant's clock, so the
evening before stays 18:00 across a change of daylight saving time). Without the part a booking
type reminds once, 24 hours before; ``[]`` turns reminders off.

:func:`emit_due_reminders` runs every minute in the worker. A reminder is due when its time has
come and the booking has not started, and only if the booking had its current time before
then: a booking made (or moved) an hour before its start does not get the 24-hour one. Each is
emitted once per (booking, reminder, start time), recorded as a
:class:`~yuyue.notifying.models.SentReminder` in the transaction that emits it; a booking moved
to another time gets its reminders again, for the new time, and a cancelled one gets none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuyue.audit.models import AuditRecord
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.catalog.models import BookingType
from yuyue.db import insert_unless_exists, tenant_scope, write_transaction
from yuyue.events.operations import emit
from yuyue.notifying.models import SentReminder
from yuyue.tenancy.models import Tenant, TenantStatus
from yuyue.types import utcnow

__all__ = ["DEFAULT_REMINDERS", "Reminder", "emit_due_reminders", "reminders_of"]

TOPIC = "booking.reminder"
DEFAULT_REMINDERS: tuple[Mapping[str, Any], ...] = ({"minutes_before": 24 * 60},)
# A wall-clock reminder can be a day longer than its days (the day's own hours) and an hour more across DST.
_SLACK = timedelta(days=1, hours=2)


@dataclass(frozen=True)
class Reminder:
    """One reminder rule of a booking type; ``key`` names it in SentReminder and the event (``1440m``, ``1d@18:00``)."""

    minutes_before: int | None = None
    days_before: int | None = None
    at: time | None = None

    @property
    def key(self) -> str:
        if self.minutes_before is not None:
            return f"{self.minutes_before}m"
        return f"{self.days_before}d@{self.at:%H:%M}"

    @property
    def lead(self) -> timedelta:
        """The longest a reminder can come before its booking's start (how far ahead to look for bookings)."""
        if self.minutes_before is not None:
            return timedelta(minutes=self.minutes_before)
        return timedelta(days=self.days_before or 0) + _SLACK

    def due_at(self, starts_at: datetime, zone: ZoneInfo) -> datetime:
        """When this reminder of a booking starting at ``starts_at`` is due, in UTC."""
        if self.minutes_before is not None:
            return starts_at - timedelta(minutes=self.minutes_before)
        day = starts_at.astimezone(zone).date() - timedelta(days=self.days_before or 0)
        # A wall time that a spring-forward skips is read with the offset before the change (fold=0), i.e. an hour later.
        return datetime.combine(day, self.at, tzinfo=zone).astimezone(UTC)


def reminders_of(policies: Mapping[str, Any] | None) -> list[Reminder]:
    """The reminders a booking type's (schema-validated) policies ask for; the default when they say nothing."""
    rules: Sequence[Mapping[str, Any]] = (policies or {}).get("reminders", DEFAULT_REMINDERS)
    found = []
    for rule in rules or ():
        if "minutes_before" in rule:
            found.append(Reminder(minutes_before=int(rule["minutes_before"])))
        else:
            hour, minute = (int(part) for part in str(rule["at"]).split(":"))
            found.append(Reminder(days_before=int(rule["days_before"]), at=time(hour, minute)))
    return found


def emit_due_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Emit a ``booking.reminder`` event for every reminder of every active tenant's confirmed bookings that is due; how many."""
    now = now or utcnow()
    tenants = session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.id)).all()
    return sum(_emit_for_tenant(session, tenant, now) for tenant in tenants)


def _had_its_time_since(session: Session, booking: Booking) -> datetime:
    """When the booking got its current start: made, or last moved (the audit log's commit time of the move)."""
    if not booking.reschedule_count:
        return booking.created_at
    moved = session.scalar(
        select(func.max(AuditRecord.at)).where(
            AuditRecord.subject_type == "booking", AuditRecord.subject_id == booking.public_id, AuditRecord.action == "booking.rescheduled"
        )
    )
    return max(booking.created_at, moved) if moved else booking.created_at


def _due(session: Session, tenant: Tenant, now: datetime) -> list[tuple[int, str, Reminder, datetime, datetime]]:
    """(booking id, public id, reminder, start, due time) of every reminder due now, read without a write lock."""
    zone = ZoneInfo(tenant.time_zone)
    due = []
    for booking_type in session.scalars(select(BookingType).order_by(BookingType.id)):
        reminders = reminders_of(booking_type.policies)
        if not reminders:
            continue
        horizon = now + max(reminder.lead for reminder in reminders)
        bookings = session.scalars(
            select(Booking)
            .where(
                Booking.booking_type_id == booking_type.id,
                Booking.status == BookingStatus.confirmed,
                Booking.starts_at > now,
                Booking.starts_at <= horizon,
            )
            .order_by(Booking.id)
        )
        for booking in bookings:
            since = None
            for reminder in reminders:
                due_at = reminder.due_at(booking.starts_at, zone)
                if due_at > now:
                    continue
                since = since or _had_its_time_since(session, booking)
                if due_at > since:
                    due.append((booking.id, booking.public_id, reminder, booking.starts_at, due_at))
    return due


def _emit_for_tenant(session: Session, tenant: Tenant, now: datetime) -> int:
    """One tenant's due reminders, emitted in one write transaction (each once: the SentReminder row's unique key)."""
    with tenant_scope(tenant.id):
        due = _due(session, tenant, now)
        if not due:
            return 0
        emitted = 0
        with write_transaction(session):
            still = {
                row.id: row.starts_at
                for row in session.execute(
                    select(Booking.id, Booking.starts_at).where(Booking.id.in_({item[0] for item in due}), Booking.status == BookingStatus.confirmed)
                )
            }
            for booking_id, public_id, reminder, starts_at, due_at in due:
                if still.get(booking_id) != starts_at:
                    continue  # cancelled or moved since it was read
                values = {
                    "tenant_id": tenant.id,
                    "booking_id": booking_id,
                    "offset_key": reminder.key,
                    "starts_at": starts_at,
                    "due_at": due_at,
                    "sent_at": now,
                }
                if insert_unless_exists(session, SentReminder, values, ["tenant_id", "booking_id", "offset_key", "starts_at"]) is None:
                    continue  # emitted before
                emit(session, TOPIC, {"booking": public_id, "offset": reminder.key, "starts_at": starts_at, "due_at": due_at})
                emitted += 1
        return emitted
