"""The waitlist: when a slot is full, customers queue; each freed place goes to exactly one of them.

A freed place is first taken for the next fitting entry (the same conditional
UPDATE as a booking), then the entry is claimed by compare-and-set on its
status; whoever loses either step gives the place back. The entry is then
either booked at once (``auto_confirm``) or offered for a limited time.
A waitlist a plugin closed (``waitlist_closes_at``, e.g. a class's late-cancel
cut-off) takes nobody new and offers nothing: the freed place stays free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yuyue.audit.state import audited_columns, touched
from yuyue.behaviour import BookingTypeView
from yuyue.bookings.consents import PrivacyConsent, link_waitlist_consent, record_consent
from yuyue.bookings.models import Booking, WaitlistEntry, WaitlistStatus
from yuyue.bookings.placement import (
    SYSTEM,
    Actor,
    admitted_customer,
    checked_request,
    find_slot,
    place_booking,
    plugins_of,
    request_of,
)
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Customer
from yuyue.db import current_tenant_id, tenant_scope, write_transaction
from yuyue.errors import Conflict, DomainError, NotFound, Refused
from yuyue.events.operations import record_change
from yuyue.forms.people import Person
from yuyue.forms.registry import FormRegistry
from yuyue.observability.metrics import record_waitlist_booking, record_waitlist_offer
from yuyue.plugins import TenantPlugins
from yuyue.scheduling.inventory import inventory_row, release_places, remaining_places, take_row_places
from yuyue.scheduling.models import SlotInventory
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

DEFAULT_OFFER_MINUTES = 30


def _offer_minutes(booking_type: BookingType) -> int:
    return int(booking_type.policies.get("waitlist", {}).get("offer_minutes", DEFAULT_OFFER_MINUTES))


def _closed(plugins: TenantPlugins, booking_type: BookingType, starts_at: datetime, now: datetime) -> bool:
    """Whether a plugin closed the waitlist of the slot starting at ``starts_at`` by ``now``."""
    closes_at = plugins.first("waitlist_closes_at", booking_type=BookingTypeView.of(booking_type), starts_at=starts_at)
    if closes_at is not None and (not isinstance(closes_at, datetime) or closes_at.tzinfo is None):
        raise Refused(_l("a plugin answered waitlist_closes_at with %(closes_at)r, not an aware datetime", closes_at=closes_at), code="plugin_failed")
    return closes_at is not None and now > closes_at


def _person_json(person: Person) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(person).items()}


def _person(data: dict[str, Any]) -> Person:
    birth = data.get("birth_date")
    return Person(data.get("name"), data.get("id_number"), data.get("phone"), date.fromisoformat(birth) if birth else None)


def join(
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
    auto_confirm: bool = False,
    now: datetime | None = None,
    privacy_consent: PrivacyConsent | None = None,
) -> WaitlistEntry:
    """Queue for a full slot; refused when a place is free (book it instead) or the customer already waits.

    A booking type with a privacy notice needs consent here as for booking: it is recorded with the entry, and
    belongs to the booking too once the entry's place is booked.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id):
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
        booking_type = request.booking_type
        if _closed(request.plugins, booking_type, request.slot.starts_at, now):
            raise Refused(_l("this class is too close to its start to wait for a place"), code="waitlist_closed")
        with write_transaction(session):
            customer, request = admitted_customer(session, request, phone, name, now)
            inventory = inventory_row(session, booking_type, request.slot, channel)
            if remaining_places(session, booking_type, inventory) >= request.party_size:
                raise Conflict(_l("there are free places: book the slot instead"), code="slot_not_full")
            waiting = session.scalar(
                select(WaitlistEntry.id).where(
                    WaitlistEntry.customer_id == customer.id,
                    WaitlistEntry.booking_type_id == booking_type.id,
                    WaitlistEntry.starts_at == request.slot.starts_at,
                    WaitlistEntry.status.in_((WaitlistStatus.waiting, WaitlistStatus.offered)),
                )
            )
            if waiting is not None:
                raise Conflict(_l("you are already on the waitlist for this slot"), code="already_waiting")
            entry = WaitlistEntry(
                booking_type_id=booking_type.id,
                customer_id=customer.id,
                starts_at=request.slot.starts_at,
                channel=channel,
                party_size=request.party_size,
                auto_confirm=auto_confirm,
                answers=request.answers,
                people=[_person_json(p) for p in request.people],
                tickets=dict(request.view.tickets),
                created_at=now,
            )
            session.add(entry)
            session.flush()
            consent = request.consent
            if consent is not None:
                record_consent(session, consent, customer.id, booking_type.id, now, entry_id=entry.id)
            _log(session, entry, Actor("customer", customer.id), "waitlist.joined", consent)
    return entry


def promote(session: Session, inventory_id: int, now: datetime) -> list[WaitlistEntry]:
    """Give the free places of one slot to the queue, in order; inside the caller's transaction.

    Each freed place goes to the first entry whose party fits in what the slot
    and its day have left: an entry for 4 is passed over while 2 places are
    free, keeps its place in the queue, and is offered the slot once 4 are.
    """
    inventory = session.get(SlotInventory, inventory_id)
    booking_type = session.get(BookingType, inventory.booking_type_id)
    plugins = plugins_of(session, session.get(Tenant, inventory.tenant_id))
    if _closed(plugins, booking_type, inventory.starts_at, now):
        return []
    promoted = []
    while True:
        session.refresh(inventory, ["capacity", "taken", "closed_reason"])
        remaining = remaining_places(session, booking_type, inventory)
        entry = session.scalar(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.booking_type_id == inventory.booking_type_id,
                WaitlistEntry.starts_at == inventory.starts_at,
                WaitlistEntry.channel == inventory.channel,
                WaitlistEntry.status == WaitlistStatus.waiting,
                WaitlistEntry.party_size <= remaining,
            )
            .order_by(WaitlistEntry.id)
            .limit(1)
        )
        if entry is None or not take_row_places(session, booking_type, inventory_id, entry.party_size):
            return promoted
        to = WaitlistStatus.accepted if entry.auto_confirm else WaitlistStatus.offered
        expires = None if entry.auto_confirm else now + timedelta(minutes=_offer_minutes(booking_type))
        if not _claim(session, entry, WaitlistStatus.waiting, to, offer_expires_at=expires):
            release_places(session, inventory_id, entry.party_size)
            continue
        if entry.auto_confirm and not _booked_at_once(session, entry, booking_type, now):
            to = WaitlistStatus.offered
            _claim(session, entry, WaitlistStatus.accepted, to, offer_expires_at=now + timedelta(minutes=_offer_minutes(booking_type)))
        if to is WaitlistStatus.offered:
            record_waitlist_offer(session)
        else:
            record_waitlist_booking(session, "at_once")
        _log(session, entry, SYSTEM, f"waitlist.{to.value}")
        promoted.append(entry)


def accept_offer(session: Session, tenant: Tenant, entry_id: int, *, now: datetime | None = None, customer: Customer | None = None) -> Booking:
    """Turn an offer into a booking on the place the offer holds; with ``customer``, only that customer's offer."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        entry = _entry(session, entry_id, customer)
        if entry.status is not WaitlistStatus.offered:
            raise Conflict(_l("this waitlist entry is %(status)s, not offered", status=entry.status.value), code="no_offer")
        if entry.offer_expires_at <= now:
            raise Conflict(_l("the offer has expired"), code="offer_expired")
        if not _claim(session, entry, WaitlistStatus.offered, WaitlistStatus.accepted):
            raise Conflict(_l("the offer changed meanwhile"), code="no_offer")
        booking = _book_entry(session, entry, session.get(BookingType, entry.booking_type_id), now)
        _log(session, entry, SYSTEM, "waitlist.accepted")
        record_waitlist_booking(session, "offer_accepted")
    return booking


def leave(session: Session, tenant: Tenant, entry_id: int, *, now: datetime | None = None, customer: Customer | None = None) -> WaitlistEntry:
    """Leave the queue; a held offer's place goes to the next in line. With ``customer``, only that customer's entry."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        entry = _entry(session, entry_id, customer)
        previous = entry.status
        if previous not in (WaitlistStatus.waiting, WaitlistStatus.offered) or not _claim(session, entry, previous, WaitlistStatus.cancelled):
            raise Conflict(_l("this waitlist entry is %(status)s", status=entry.status.value), code="not_waiting")
        _log(session, entry, SYSTEM, "waitlist.cancelled")
        if previous is WaitlistStatus.offered:
            _give_back(session, entry, now)
    return entry


def expire_offers(session: Session, tenant: Tenant, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """End offers whose time ran out and pass each place to the next in line."""
    now = now or utcnow()
    expired = []
    with tenant_scope(tenant.id), write_transaction(session):
        due = session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.status == WaitlistStatus.offered, WaitlistEntry.offer_expires_at <= now).order_by(WaitlistEntry.id)
        )
        for entry in due.all():
            if _claim(session, entry, WaitlistStatus.offered, WaitlistStatus.expired):
                _log(session, entry, SYSTEM, "waitlist.expired")
                _give_back(session, entry, now)
                expired.append(entry)
    return expired


def _give_back(session: Session, entry: WaitlistEntry, now: datetime) -> None:
    inventory_id = session.scalar(
        select(SlotInventory.id).where(
            SlotInventory.booking_type_id == entry.booking_type_id, SlotInventory.starts_at == entry.starts_at, SlotInventory.channel == entry.channel
        )
    )
    release_places(session, inventory_id, entry.party_size)
    promote(session, inventory_id, now)


def _entry(session: Session, entry_id: int, customer: Customer | None = None) -> WaitlistEntry:
    entry = session.get(WaitlistEntry, entry_id)
    # Someone else's entry is as absent as a missing one, so ids cannot be probed.
    if entry is None or entry.tenant_id != current_tenant_id() or (customer is not None and entry.customer_id != customer.id):
        raise NotFound(_l("no waitlist entry %(entry_id)s", entry_id=entry_id), code="waitlist_entry_not_found")
    return entry


def _claim(session: Session, entry: WaitlistEntry, expected: WaitlistStatus, to: WaitlistStatus, **values: Any) -> bool:
    """Compare-and-set the entry's status; False when someone else moved it first."""
    row = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status == expected)
        .values(status=to, **values)
        .returning(*audited_columns(WaitlistEntry))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    touched(session, WaitlistEntry, entry.id, row._mapping)
    for key, value in {"status": to, **values}.items():
        set_committed_value(entry, key, value)
    return True


def _booked_at_once(session: Session, entry: WaitlistEntry, booking_type: BookingType, now: datetime) -> bool:
    """Book an entry that asked to be booked at once; False when a plugin refuses the booking now.

    The waiter then gets an offer instead (say they lack the class credits and
    may buy some), and the change that freed the place goes on.
    """
    try:
        with session.begin_nested():
            _book_entry(session, entry, booking_type, now)
    except DomainError:
        return False
    return True


def _book_entry(session: Session, entry: WaitlistEntry, booking_type: BookingType, now: datetime) -> Booking:
    tenant = session.get(Tenant, entry.tenant_id)
    slot = find_slot(booking_type, ZoneInfo(tenant.time_zone), entry.starts_at)
    customer = session.get(Customer, entry.customer_id)
    people = [_person(p) for p in entry.people]
    request = request_of(
        plugins_of(session, tenant),
        booking_type,
        slot,
        entry.channel,
        entry.answers,
        people,
        len(people) or entry.party_size,
        now,
        entry.party_size,
        tickets=entry.tickets,
    )
    request = replace(request, view=replace(request.view, phone=customer.phone, customer_id=customer.id))
    booking = place_booking(session, request, customer, now=now, actor=SYSTEM, capacity_taken=True)
    link_waitlist_consent(session, entry.id, booking.id)
    row = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id)
        .values(booking_id=booking.id)
        .returning(*audited_columns(WaitlistEntry))
        .execution_options(synchronize_session=False)
    ).one()
    touched(session, WaitlistEntry, entry.id, row._mapping)
    set_committed_value(entry, "booking_id", booking.id)
    return booking


def _log(session: Session, entry: WaitlistEntry, actor: Actor, action: str, consent: PrivacyConsent | None = None) -> None:
    payload = {"entry": entry.id, "slot": entry.starts_at.isoformat(), "party_size": entry.party_size, "status": entry.status.value}
    if consent is not None:
        payload |= consent.audit_data()
    record_change(session, actor=str(actor), action=action, subject_type="waitlist_entry", subject_id=entry.id, payload=payload)


def withdraw_session(session: Session, booking_type_id: int, starts_at: datetime) -> list[WaitlistEntry]:
    """End every waiting or offered entry of a session that was called off, in the caller's transaction.

    An offered entry's place goes back to the slot and is offered to nobody:
    the session takes no more bookings.
    """
    withdrawn = []
    entries = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.booking_type_id == booking_type_id,
            WaitlistEntry.starts_at == starts_at,
            WaitlistEntry.status.in_((WaitlistStatus.waiting, WaitlistStatus.offered)),
        )
        .order_by(WaitlistEntry.id)
    )
    for entry in entries.all():
        previous = entry.status
        if not _claim(session, entry, previous, WaitlistStatus.cancelled):
            continue
        if previous is WaitlistStatus.offered:
            inventory_id = session.scalar(
                select(SlotInventory.id).where(
                    SlotInventory.booking_type_id == entry.booking_type_id, SlotInventory.starts_at == entry.starts_at, SlotInventory.channel == entry.channel
                )
            )
            release_places(session, inventory_id, entry.party_size)
        _log(session, entry, SYSTEM, "waitlist.cancelled")
        withdrawn.append(entry)
    return withdrawn


# --- for staff ------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitlistLine:
    """An entry of a slot's waitlist as staff read it: its place in its channel's queue (1 is next; None once it left the queue) and who waits."""

    entry: WaitlistEntry
    position: int | None
    customer: Customer


def slot_waitlist(session: Session, tenant: Tenant, booking_type_slug: str, starts_at: datetime) -> tuple[BookingType, list[WaitlistLine]]:
    """Every entry of one slot's waitlist, in the order places are offered (only reads).

    :raises NotFound: ``booking_type_not_found`` for a slug ``tenant`` does not have.
    """
    with tenant_scope(tenant.id):
        booking_type = session.scalar(select(BookingType).where(BookingType.slug == booking_type_slug))
        if booking_type is None:
            raise NotFound(_l("no booking type %(booking_type_slug)r", booking_type_slug=booking_type_slug), code="booking_type_not_found")
        rows = session.execute(
            select(WaitlistEntry, Customer)
            .join(Customer, Customer.id == WaitlistEntry.customer_id)
            .where(WaitlistEntry.booking_type_id == booking_type.id, WaitlistEntry.starts_at == starts_at)
            .order_by(WaitlistEntry.id)
        ).all()
    queued: dict[str, int] = {}
    lines = []
    for entry, customer in rows:
        position = None
        if entry.status is WaitlistStatus.waiting:
            position = queued[entry.channel] = queued.get(entry.channel, 0) + 1
        lines.append(WaitlistLine(entry, position, customer))
    return booking_type, lines


def entry_of_booking(session: Session, tenant: Tenant, booking: Booking) -> WaitlistEntry | None:
    """The waitlist entry a booking was made from, if it came off a waitlist."""
    with tenant_scope(tenant.id):
        return session.scalar(select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id))
