"""Booking operations: book, confirm, cancel, expire, reschedule, no-show, complete.

Each operation is one write transaction that takes or releases capacity and
resources, appends an audit record and an outbox event. Capacity is taken only
by the conditional UPDATEs in ``scheduling.inventory`` (``take_places``,
``move_places``: the slot's row and its day's rows); a booking's places and
resources go back exactly once (``released_at`` compare-and-set), as many as it took.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yuyue.audit.state import audited_columns, touched
from yuyue.behaviour import BookingView, CancellationTerms, Person
from yuyue.bookings import lifecycle, policies
from yuyue.bookings.consents import PrivacyConsent
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus, ResourceAllocation
from yuyue.bookings.placement import (
    SYSTEM,
    Actor,
    admit,
    admitted_customer,
    allocate_resources,
    booking_view,
    checked_request,
    find_slot,
    get_booking,
    log_change,
    place_booking,
    plugins_of,
    request_of,
)
from yuyue.bookings.vouchers import new_voucher_code
from yuyue.bookings.waitlist import promote
from yuyue.catalog.models import BookingType
from yuyue.customers.models import BanSubject, Customer
from yuyue.customers.operations import add_points, ban, normalize_phone
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, DomainError, FieldProblem, InvalidInput, Refused
from yuyue.forms.registry import FormRegistry
from yuyue.observability.metrics import record_booking_placed, record_booking_refused
from yuyue.plugins import TenantPlugins
from yuyue.scheduling.inventory import move_places, release_places
from yuyue.scheduling.slots import bookable
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow


def book(
    session: Session,
    forms: FormRegistry,
    tenant: Tenant,
    *,
    booking_type_slug: str,
    starts_at: datetime,
    phone: str,
    answers: dict[str, Any],
    name: str | None = None,
    channel: str = "default",
    party_size: int | None = None,
    tickets: dict[str, int] | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
    privacy_consent: PrivacyConsent | None = None,
) -> Booking:
    """Book a slot: held until paid when the booking type has a price, else confirmed at once.

    With an ``idempotency_key``, a retry returns the first booking and takes no capacity.
    A booking type with a privacy notice needs ``privacy_consent`` to its current version (:func:`yuyue.bookings.consents.require_consent`).
    SQL statements for a new customer on a booking type that was booked before
    (no resources, no quotas): 12 on SQLite counting its two BEGIN statements, 10
    on PostgreSQL; ``test_booking_creation_issues_a_bounded_number_of_statements``
    holds it at no more than 12. The count does not grow with the slot's capacity
    or the number of bookings already taken.

    Every outcome is counted here, the one place all channels book through: placed
    (with the places it took) or refused by its problem code (``observability.metrics``);
    an idempotent replay returns before the count.
    """
    now = now or utcnow()
    try:
        with tenant_scope(tenant.id):
            if idempotency_key and (earlier := _booked_with_key(session, idempotency_key)) is not None:
                return earlier
            request = checked_request(
                session,
                forms,
                tenant,
                booking_type_slug=booking_type_slug,
                starts_at=starts_at,
                answers=answers,
                channel=channel,
                party_size=party_size,
                tickets=tickets,
                now=now,
                privacy_consent=privacy_consent,
            )
            try:
                with write_transaction(session):
                    customer, request = admitted_customer(session, request, phone, name, now)
                    actor = actor or Actor("customer", customer.id)
                    booking = place_booking(session, request, customer, now=now, actor=actor, idempotency_key=idempotency_key)
            except IntegrityError:
                # A concurrent retry with the same key won; answer with its booking.
                if idempotency_key and (earlier := _booked_with_key(session, idempotency_key)) is not None:
                    return earlier
                raise
    except DomainError as refusal:
        record_booking_refused(refusal.code)
        raise
    record_booking_placed(booking.party_size)
    return booking


def _booked_with_key(session: Session, idempotency_key: str) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.idempotency_key == idempotency_key))


def confirm(session: Session, tenant: Tenant, public_id: str, *, now: datetime | None = None, actor: Actor = SYSTEM) -> Booking:
    """Confirm a held booking (payment received); a hold that has run out is expired instead."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        booking = get_booking(session, public_id)
        if booking.status is BookingStatus.confirmed:
            return booking  # payment notifications arrive more than once
        plugins = plugins_of(session, tenant)
        if booking.status is BookingStatus.held and booking.hold_expires_at and booking.hold_expires_at <= now:
            _expire(session, plugins, booking, now)
            return booking
        lifecycle.move(session, booking, BookingStatus.confirmed, hold_expires_at=None, voucher_code=new_voucher_code())
        log_change(session, booking, actor, "booking.confirmed", {})
        plugins.collect("booking_confirmed", booking=booking_view(session, booking), now=now, session=session)
    return booking


def cancel(
    session: Session,
    tenant: Tenant,
    public_id: str,
    *,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    reason: str | None = None,
    by_staff: bool = False,
) -> Booking:
    """Cancel under the booking's terms (:func:`cancel_with_terms`); staff may cancel past the deadline without penalty."""
    return cancel_with_terms(session, tenant, public_id, now=now, actor=actor, reason=reason, by_staff=by_staff).booking


def _expire(session: Session, plugins: TenantPlugins, booking: Booking, now: datetime) -> None:
    lifecycle.move(session, booking, BookingStatus.expired)
    log_change(session, booking, SYSTEM, "booking.expired", {})
    release(session, booking, now)
    plugins.collect("booking_expired", booking=booking_view(session, booking), now=now, session=session)


def expire_holds(session: Session, tenant: Tenant, *, now: datetime | None = None) -> list[Booking]:
    """Expire every held booking whose hold has run out, releasing its place.

    A booking paid (or cancelled) after the batch read it is skipped, not expired,
    and the others still expire: each expiry has its own savepoint.
    """
    now = now or utcnow()
    expired = []
    with tenant_scope(tenant.id), write_transaction(session):
        due = session.scalars(select(Booking).where(Booking.status == BookingStatus.held, Booking.hold_expires_at <= now).order_by(Booking.id)).all()
        plugins = plugins_of(session, tenant) if due else None
        for booking in due:
            try:
                with session.begin_nested():
                    _expire(session, plugins, booking, now)
            except Conflict:
                continue
            expired.append(booking)
    return expired


def mark_no_show(session: Session, tenant: Tenant, public_id: str, *, now: datetime | None = None, actor: Actor = SYSTEM) -> Booking:
    """Record a no-show after the slot started, and ban repeat offenders as the policy escalates."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        booking = get_booking(session, public_id)
        if now < booking.starts_at:
            raise Refused(_l("a booking can be marked no-show only after its slot starts"), code="slot_not_started")
        lifecycle.move(session, booking, BookingStatus.no_show, counts_as_no_show=True)
        log_change(session, booking, actor, "booking.no_show", {})
        view = booking_view(session, booking)
        _ban_repeat_no_shows(session, view.booking_type.policies, session.get(Customer, booking.customer_id), booking, now)
        plugins_of(session, tenant).collect("booking_no_show", booking=view, now=now, session=session)
    return booking


def _ban_repeat_no_shows(session: Session, rules: Mapping[str, Any], customer: Customer, booking: Booking, now: datetime) -> None:
    """After a no-show (or a cancellation that counts as one), ban as the policy ``rules`` escalate."""
    id_numbers = list(session.scalars(select(BookingPerson.id_number).where(BookingPerson.booking_id == booking.id, BookingPerson.id_number.is_not(None))))
    for subject_kind, subject, days, why in policies.bans_after_no_show(session, rules, customer, id_numbers, now):
        ban(session, BanSubject(subject_kind), subject, days, why, now)


def complete(session: Session, tenant: Tenant, public_id: str, *, now: datetime | None = None, actor: Actor = SYSTEM) -> Booking:
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        booking = get_booking(session, public_id)
        lifecycle.move(session, booking, BookingStatus.completed)
        log_change(session, booking, actor, "booking.completed", {})
        plugins_of(session, tenant).collect("booking_completed", booking=booking_view(session, booking), now=now, session=session)
    return booking


def reschedule(
    session: Session,
    forms: FormRegistry,
    tenant: Tenant,
    public_id: str,
    *,
    starts_at: datetime,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Booking:
    """Move a booking to another slot of its type: the new place is taken before the old one is released.

    The move is judged as a new booking of the same people would be (every
    plugin's ``validate_booking``, the booking itself left out of the counts),
    after the ``reschedule_terms`` allow it.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        if booking.status not in (BookingStatus.held, BookingStatus.confirmed):
            raise Refused(_l("a %(status)s booking cannot be rescheduled", status=booking.status.value), code="illegal_transition")
        plugins = plugins_of(session, tenant)
        terms = plugins.first("reschedule_terms", booking=booking_view(session, booking), now=now)
        if not terms.allowed:
            raise Refused(terms.message or _l("this booking can no longer be rescheduled"), code=terms.code)
        booking_type = session.get(BookingType, booking.booking_type_id)
        slot = find_slot(booking_type, ZoneInfo(tenant.time_zone), starts_at)
        is_open, reason = bookable(booking_type.availability_rules, slot, now)
        if not is_open:
            raise Refused(_l("the new slot cannot be booked now"), code=reason)
        if slot.starts_at == booking.starts_at:
            return booking
        if booking.channel not in slot.capacities:
            raise InvalidInput(
                _l("the new slot has no such channel"),
                errors=[FieldProblem("/starts_at", _l("no %(channel)s places in that slot", channel=booking.channel), "unknown_channel")],
            )
        with write_transaction(session):
            # Locked first, as a cancel locks it, so a cancel and a move of one booking take turns.
            booking = get_booking(session, public_id, for_update=True)
            if booking.status not in (BookingStatus.held, BookingStatus.confirmed) or booking.released_at is not None:
                raise Refused(_l("a %(status)s booking cannot be rescheduled", status=booking.status.value), code="illegal_transition")
            customer = session.get(Customer, booking.customer_id)
            people = [
                Person(p.name, p.id_number, p.phone, p.birth_date) for p in session.scalars(select(BookingPerson).where(BookingPerson.booking_id == booking.id))
            ]
            request = request_of(
                plugins,
                booking_type,
                slot,
                booking.channel,
                booking.answers,
                people,
                len(people) or booking.party_size,
                now,
                booking.party_size,
                tickets=booking.tickets,
            )
            request = replace(request, view=replace(request.view, phone=customer.phone, customer_id=customer.id, moves=booking.public_id))
            admit(session, request)
            old_inventory_id, old_start = booking.inventory_id, booking.starts_at
            new_inventory_id = move_places(session, booking_type, old_inventory_id, slot, booking.channel, booking.party_size)
            session.execute(delete(ResourceAllocation).where(ResourceAllocation.booking_id == booking.id))
            booking.inventory_id, booking.starts_at, booking.ends_at, booking.local_date = new_inventory_id, slot.starts_at, slot.ends_at, slot.local_date
            booking.reschedule_count += 1
            session.execute(update(BookingPerson).where(BookingPerson.booking_id == booking.id).values(local_date=slot.local_date))
            session.flush()
            allocate_resources(session, booking_type, booking)
            log_change(session, booking, actor, "booking.rescheduled", {"from": old_start.isoformat(), "to": slot.starts_at.isoformat()})
            plugins.collect("booking_rescheduled", booking=booking_view(session, booking), previous_starts_at=old_start, now=now, session=session)
            promote(session, old_inventory_id, now)
    return booking


def release(session: Session, booking: Booking, now: datetime) -> bool:
    """Give the booking's places (slot and day) and its own resources back, once; then offer the places to the waitlist.

    Resources the slot holds stay: the slot is still scheduled.

    Returns False when they were already released (a second cancel, an expiry racing a cancel).
    """
    row = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.released_at.is_(None))
        .values(released_at=now)
        .returning(*audited_columns(Booking))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    touched(session, Booking, booking.id, row._mapping)
    set_committed_value(booking, "released_at", now)
    release_places(session, booking.inventory_id, booking.party_size)
    session.execute(delete(ResourceAllocation).where(ResourceAllocation.booking_id == booking.id))
    promote(session, booking.inventory_id, now)
    return True


# --- for customers ----------------------------------------------------------------


@dataclass(frozen=True)
class BookingReceipt:
    """What a client's booking request came to; ``replayed`` when an earlier request with the same key made the booking."""

    booking: Booking
    replayed: bool


def book_once(
    session: Session,
    forms: FormRegistry,
    tenant: Tenant,
    *,
    booking_type_slug: str,
    starts_at: datetime,
    phone: str,
    idempotency_key: str | None,
    may_replay: Callable[[Booking], bool],
    now: datetime | None = None,
    **request: Any,
) -> BookingReceipt:
    """:func:`book` for a client that may send the same request again (``Idempotency-Key``).

    A retry answers with the first booking and takes no capacity, but only to
    a caller ``may_replay`` admits: the booking's own logged-in customer, or
    whoever holds its booking token. Anyone else, including a guest who knows
    the phone number and the key but holds no token, is refused
    (``idempotency_key_reused``) with nothing of the booking, exactly as for a
    key sent again with another phone, booking type or slot, so the refusal
    tells nobody which of these it was (decisions §35).
    """
    now = now or utcnow()
    booking = book(
        session, forms, tenant, booking_type_slug=booking_type_slug, starts_at=starts_at, phone=phone, idempotency_key=idempotency_key, now=now, **request
    )
    replayed = booking.created_at != now
    if replayed:
        with tenant_scope(tenant.id):
            owner = session.scalar(select(Customer.phone).where(Customer.id == booking.customer_id))
            slug = session.scalar(select(BookingType.slug).where(BookingType.id == booking.booking_type_id))
        moved_since = booking.reschedule_count > 0
        same_request = owner == normalize_phone(phone) and slug == booking_type_slug and (booking.starts_at == starts_at or moved_since)
        if not (same_request and may_replay(booking)):
            raise Conflict(KEY_REUSED, code="idempotency_key_reused")
    return BookingReceipt(booking, replayed)


# One answer for every refused replay, so it says nothing of whose booking the key made.
KEY_REUSED = _l(
    "this Idempotency-Key was already used. If that booking was yours, log in (with a code sent to its phone) "
    "or send its booking token to see it; otherwise send the request with a new key"
)


@dataclass(frozen=True)
class Cancellation:
    """A cancelled booking and the terms its cancellation was judged by."""

    booking: Booking
    terms: CancellationTerms


def cancel_with_terms(
    session: Session,
    tenant: Tenant,
    public_id: str,
    *,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
    reason: str | None = None,
    by_staff: bool = False,
) -> Cancellation:
    """Cancel under the ``cancellation_terms`` the plugins give, answering with the terms applied.

    The terms are read once, with the booking locked, so the slot they were
    read for is the one cancelled. Staff may cancel past the deadline, and
    then no penalty applies.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        booking = get_booking(session, public_id, for_update=True)
        lifecycle.require_transition(booking, BookingStatus.cancelled)
        plugins = plugins_of(session, tenant)
        view = booking_view(session, booking)
        terms = _terms(plugins, view, now, by_staff=by_staff)
        customer = session.get(Customer, booking.customer_id)
        if not by_staff:
            if not terms.allowed:
                raise Refused(_l("this booking can no longer be cancelled"), code=terms.code or "cancellation_closed")
            policies.check_cancellation_limits(session, view.booking_type.policies, customer, now)
        lifecycle.move(session, booking, BookingStatus.cancelled, cancel_reason=reason, counts_as_no_show=terms.counts_as_no_show)
        if terms.points:
            add_points(session, customer, -terms.points, "late_cancellation", booking_id=booking.id)
        if booking.counts_as_no_show:
            _ban_repeat_no_shows(session, view.booking_type.policies, customer, booking, now)
        log_change(
            session,
            booking,
            actor,
            "booking.cancelled",
            {"late": terms.late, "by_staff": by_staff, "points": terms.points, "fee_percent": terms.fee_percent},
        )
        release(session, booking, now)
        plugins.collect("booking_cancelled", booking=booking_view(session, booking), terms=terms, by_staff=by_staff, now=now, session=session)
    return Cancellation(booking, terms)


def _terms(plugins: TenantPlugins, view: BookingView, now: datetime, *, by_staff: bool) -> CancellationTerms:
    """The plugins' ``cancellation_terms``; staff cancel at any time and without penalty."""
    terms = plugins.first("cancellation_terms", booking=view, now=now)
    return replace(terms, allowed=True, points=0, fee_percent=0, counts_as_no_show=False) if by_staff else terms


@dataclass(frozen=True)
class CancellationOutlook:
    """What cancelling a booking now would mean, before anyone does: the terms that would apply, and the customer's own."""

    booking: Booking
    terms: CancellationTerms
    customer_terms: CancellationTerms


def cancellation_outlook(session: Session, tenant: Tenant, public_id: str, *, now: datetime | None = None, by_staff: bool = False) -> CancellationOutlook:
    """The terms :func:`cancel_with_terms` would apply now, read without cancelling (staff see them before they confirm).

    :raises Conflict: ``illegal_transition`` when the booking can no longer be cancelled at all.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        lifecycle.require_transition(booking, BookingStatus.cancelled)
        plugins = plugins_of(session, tenant)
        view = booking_view(session, booking)
        customer_terms = _terms(plugins, view, now, by_staff=False)
        terms = _terms(plugins, view, now, by_staff=True) if by_staff else customer_terms
    return CancellationOutlook(booking, terms, customer_terms)


def customer_bookings(session: Session, tenant: Tenant, customer: Customer, *, before_id: int | None = None, limit: int = 20) -> list[Booking]:
    """Up to ``limit`` of the customer's bookings, newest first; ``before_id`` continues after a previous page's last one."""
    with tenant_scope(tenant.id):
        query = select(Booking).where(Booking.customer_id == customer.id)
        if before_id is not None:
            query = query.where(Booking.id < before_id)
        return list(session.scalars(query.order_by(Booking.id.desc()).limit(limit)))
