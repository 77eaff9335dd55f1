"""Sessions decided against their minimum participants: called off (closed, every booking cancelled and refunded) or confirmed, once.

Which booking types have a minimum, and how long before a session it is
decided, is a plugin's answer to the ``minimum_participants`` hook (the
activity vertical's settings); this module is the host's mechanism, run by the
worker (:func:`decide_sessions`) for every active tenant.

A worker may be killed at any moment, so the work is cut into steps that each
commit on their own and are each done once:

1. Deciding a session writes its :class:`SessionDecision` (unique per
   session, so two workers cannot both decide it) and, below the minimum,
   closes the slot's inventory rows (``closed_reason`` ``below_minimum``) and
   ends its waitlist, in one transaction. Nobody can book it from then on.
2. Each active booking of a called-off session is cancelled in a transaction
   of its own, through the ordinary cancel operation (as the system, without
   penalty: its audit record, ``booking.cancelled`` event and refund request),
   together with its ``booking.cancelled_below_minimum`` event for the
   participant. A cancelled booking is no longer active, so a rerun passes it.
3. The decision is marked finished once no active booking is left.

Committing per booking rather than all in one transaction keeps each write
short (SQLite has one writer; a session may have hundreds of sign-ups) and
lets a rerun continue where a killed run stopped, with nothing done twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.behaviour import BookingTypeView, MinimumParticipants
from yuyue.bookings.models import Booking, BookingStatus, SessionDecision, SessionOutcome
from yuyue.bookings.operations import cancel_with_terms
from yuyue.bookings.placement import SYSTEM, log_change, plugins_of
from yuyue.bookings.waitlist import withdraw_session
from yuyue.catalog.models import BookingType
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict
from yuyue.scheduling.inventory import inventory_row
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.rules import Slot
from yuyue.scheduling.slots import generate_slots, slot_at
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = ["BELOW_MINIMUM", "SessionsReport", "decide_sessions", "minimum_of"]

BELOW_MINIMUM = "below_minimum"
# Bookings a called-off session still has to cancel: those that may become cancelled.
_CANCELLABLE = (BookingStatus.held, BookingStatus.confirmed)


@dataclass
class SessionsReport:
    """What one run did for one tenant: sessions confirmed and called off, bookings cancelled."""

    confirmed: int = 0
    called_off: int = 0
    cancelled_bookings: int = 0


def minimum_of(session: Session, tenant: Tenant, booking_type: BookingType) -> MinimumParticipants | None:
    """The minimum a session of ``booking_type`` must reach, as the tenant's plugins answer; None for none."""
    return plugins_of(session, tenant).first("minimum_participants", booking_type=BookingTypeView.of(booking_type))


def decide_sessions(session: Session, tenant: Tenant, *, now: datetime | None = None, after_each_cancel: Callable[[str], None] | None = None) -> SessionsReport:
    """Decide every session of ``tenant`` whose decision time has passed and that has not started, then finish the called-off ones.

    ``after_each_cancel(public_id)`` is called after each booking's cancellation
    committed (tests use it to stop a run part-way).
    """
    now = now or utcnow()
    report = SessionsReport()
    with tenant_scope(tenant.id):
        plugins = plugins_of(session, tenant)
        zone = ZoneInfo(tenant.time_zone)
        booking_types = list(session.scalars(select(BookingType).order_by(BookingType.id)))
        session.commit()
        for booking_type in booking_types:
            minimum = plugins.first("minimum_participants", booking_type=BookingTypeView.of(booking_type))
            if minimum is None:
                continue
            for slot in _due_sessions(session, booking_type, minimum, zone, now):
                outcome = _decide(session, booking_type, slot, minimum, now)
                if outcome is SessionOutcome.confirmed:
                    report.confirmed += 1
                elif outcome is SessionOutcome.cancelled:
                    report.called_off += 1
        unfinished = session.scalars(
            select(SessionDecision)
            .where(SessionDecision.outcome == SessionOutcome.cancelled, SessionDecision.finished_at.is_(None))
            .order_by(SessionDecision.id)
        ).all()
        session.commit()
        for decision in unfinished:
            report.cancelled_bookings += _cancel_bookings(session, tenant, decision, now, after_each_cancel)
    return report


def _due_sessions(session: Session, booking_type: BookingType, minimum: MinimumParticipants, zone: ZoneInfo, now: datetime) -> list[Slot]:
    """Undecided sessions of ``booking_type`` whose decision time is past and that start after ``now``.

    The slots the rules make, and those an inventory row names (a slot the
    rules no longer make may still hold bookings); a session without a row
    has nobody signed up.
    """
    latest = now + timedelta(hours=minimum.decided_hours_before)
    slots = {
        slot.starts_at: slot
        for slot in generate_slots(booking_type.availability_rules, zone, now.astimezone(zone).date(), latest.astimezone(zone).date())
        if now < slot.starts_at <= latest
    }
    booked = session.execute(
        select(SlotInventory.starts_at, SlotInventory.ends_at)
        .where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at > now, SlotInventory.starts_at <= latest)
        .distinct()
    ).all()
    for row in booked:
        if row.starts_at not in slots:
            slots[row.starts_at] = slot_at(booking_type.availability_rules, zone, row.starts_at) or Slot(
                row.starts_at, row.ends_at, row.starts_at.astimezone(zone).date(), {}, zone, None
            )
    decided = set(
        session.scalars(
            select(SessionDecision.starts_at).where(
                SessionDecision.booking_type_id == booking_type.id, SessionDecision.starts_at > now, SessionDecision.starts_at <= latest
            )
        )
    )
    session.commit()
    return [slots[starts_at] for starts_at in sorted(slots.keys() - decided)]


def _decide(session: Session, booking_type: BookingType, slot: Slot, minimum: MinimumParticipants, now: datetime) -> SessionOutcome | None:
    """Decide one session in one transaction; None when another worker decided it first."""
    try:
        with write_transaction(session):
            # Locked, so a booking taking a place now waits and is counted, or comes after the close and is refused.
            rows = list(
                session.scalars(
                    select(SlotInventory).where(SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at == slot.starts_at).with_for_update()
                )
            )
            participants = sum(row.taken for row in rows)
            outcome = SessionOutcome.confirmed if participants >= minimum.participants else SessionOutcome.cancelled
            session.add(
                SessionDecision(
                    booking_type_id=booking_type.id,
                    starts_at=slot.starts_at,
                    outcome=outcome,
                    participants=participants,
                    minimum=minimum.participants,
                    decided_at=now,
                    finished_at=now if outcome is SessionOutcome.confirmed else None,
                )
            )
            if outcome is SessionOutcome.cancelled:
                _close(session, booking_type, slot, rows)
            data = {"booking_type": booking_type.slug, "starts_at": slot.starts_at, "participants": participants, "minimum": minimum.participants}
            action = "session.confirmed" if outcome is SessionOutcome.confirmed else "session.called_off"
            audit_record(
                session, actor=str(SYSTEM), action=action, subject_type="session", subject_id=f"{booking_type.slug}@{slot.starts_at.isoformat()}", data=data
            )
            session.flush()
    except IntegrityError:
        return None  # decided meanwhile by another worker: its decision stands
    return outcome


def _close(session: Session, booking_type: BookingType, slot: Slot, rows: list[SlotInventory]) -> None:
    """Close every channel of the session, creating the rows of channels nobody booked yet, and end its waitlist."""
    channels = {row.channel for row in rows}
    rows = rows + [inventory_row(session, booking_type, slot, channel) for channel in sorted(slot.capacities.keys() - channels)]
    for row in rows:
        row.closed_reason = BELOW_MINIMUM
    withdraw_session(session, booking_type.id, slot.starts_at)


def _cancel_bookings(session: Session, tenant: Tenant, decision: SessionDecision, now: datetime, after_each_cancel: Callable[[str], None] | None) -> int:
    """Cancel the called-off session's bookings one transaction each; mark the decision finished when none is left."""
    cancelled, tried = 0, set()
    booking_type = session.get(BookingType, decision.booking_type_id)
    session.commit()
    while True:
        public_id = session.scalar(
            select(Booking.public_id)
            .where(Booking.booking_type_id == decision.booking_type_id, Booking.starts_at == decision.starts_at, Booking.status.in_(_CANCELLABLE))
            .order_by(Booking.id)
            .limit(1)
        )
        if public_id is None:
            break
        if public_id in tried:
            return cancelled  # it keeps refusing: left active, so the decision stays unfinished and the next run tries again
        tried.add(public_id)
        try:
            with write_transaction(session):
                booking = cancel_with_terms(session, tenant, public_id, now=now, actor=SYSTEM, reason=BELOW_MINIMUM, by_staff=True).booking
                data = {"booking_type": booking_type.slug, "participants": decision.participants, "minimum": decision.minimum, "party_size": booking.party_size}
                log_change(session, booking, SYSTEM, "booking.cancelled_below_minimum", data)
        except Conflict:
            session.rollback()
            continue  # cancelled or moved meanwhile by its customer: no longer this session's
        cancelled += 1
        if after_each_cancel is not None:
            after_each_cancel(public_id)
    with write_transaction(session):
        session.execute(update(SessionDecision).where(SessionDecision.id == decision.id, SessionDecision.finished_at.is_(None)).values(finished_at=now))
    return cancelled
