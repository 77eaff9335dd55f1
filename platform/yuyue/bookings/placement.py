"""Placing a booking: validating a request and writing it with its capacity, resources and people.

Shared by the booking operations and the waitlist, which places bookings for
people whose offer came through.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingRequest, BookingTypeView, BookingView, Person, PriceQuote, read_only
from yuyue.bookings.consents import PrivacyConsent, record_consent, require_consent
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus, ResourceAllocation
from yuyue.bookings.policies import is_minor
from yuyue.bookings.tickets import age_mismatches, requested_tickets, tickets_for_units
from yuyue.bookings.vouchers import new_voucher_code
from yuyue.catalog.models import BookingType, BookingTypeStatus, Resource
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.errors import FieldProblem, InvalidInput, NotFound, Refused
from yuyue.events.operations import record_change
from yuyue.forms.models import FormVersion
from yuyue.forms.people import id_number_pointers
from yuyue.forms.registry import FormRegistry
from yuyue.plugins import TenantPlugins, plugin_host
from yuyue.provisioning.operations import tenant_plugins
from yuyue.scheduling import inventory
from yuyue.scheduling.inventory import QUANTUM, inventory_row, quanta
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.slots import Slot, bookable, slot_at
from yuyue.tenancy.models import Tenant, TenantStatus

# Attempts to allocate resources when a concurrent booking took the chosen one first.
RESOURCE_ATTEMPTS = 3


@dataclass(frozen=True)
class Actor:
    """Who acts, as the audit log records it: ``customer:42`` (the customer's id: the audit log is kept forever, so never their phone), ``staff:7``, ``system``."""

    kind: str
    id: str | int | None = None

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


SYSTEM = Actor("system")


@dataclass(frozen=True)
class ValidatedRequest:
    """A booking request after its form, slot and party were checked, before anything is written.

    ``view`` is the request as behaviour hooks see it; ``plugins`` the tenant's
    plugins that judge it. ``party_size`` is the number of places it takes.
    ``consent`` is the customer's consent to the booking type's current privacy notice, when it has one.
    """

    booking_type: BookingType
    slot: Slot
    answers: dict[str, Any]
    plugins: TenantPlugins
    view: BookingRequest
    consent: PrivacyConsent | None = None

    @property
    def channel(self) -> str:
        return self.view.channel

    @property
    def party_size(self) -> int:
        return self.view.units

    @property
    def people(self) -> tuple[Person, ...]:
        return self.view.people


def plugins_of(session: Session, tenant: Tenant) -> TenantPlugins:
    """The plugins ``tenant`` enabled, with its settings: what judges its bookings."""
    return tenant_plugins(session, plugin_host(), tenant)


def request_of(
    plugins: TenantPlugins,
    booking_type: BookingType,
    slot: Slot,
    channel: str,
    answers: dict[str, Any],
    people: list[Person],
    persons: int,
    now: datetime,
    units: int | None = None,
    tickets: Mapping[str, int] | None = None,
) -> ValidatedRequest:
    """A request for ``slot`` made at ``now``, taking ``units`` places, or as many as the plugins' ``booking_units`` say."""
    type_view = BookingTypeView.of(booking_type)
    view = BookingRequest(
        type_view,
        slot.starts_at,
        slot.ends_at,
        slot.local_date,
        channel,
        read_only(answers),
        tuple(people),
        persons,
        units or persons,
        now,
        tickets=read_only(dict(tickets or {})),
    )
    if units is None:
        counted = plugins.first("booking_units", booking_type=type_view, request=view)
        if not isinstance(counted, int) or isinstance(counted, bool) or counted < 1:
            raise Refused(_l("a plugin counted %(counted)r places for this booking", counted=counted), code="plugin_failed")
        view = replace(view, units=counted)
    return ValidatedRequest(booking_type, slot, answers, plugins, view)


# --- reading --------------------------------------------------------------------


def require_active_tenant(tenant: Tenant) -> None:
    if tenant.status is not TenantStatus.active:
        raise Refused(_l("%(name)s is not taking bookings", name=tenant.name), code="tenant_suspended")


_BOOKING_TYPE_BY_SLUG = select(BookingType).where(BookingType.slug == bindparam("slug"))


def booking_type_by_slug(session: Session, slug: str) -> BookingType:
    return _bookable(session.scalar(_BOOKING_TYPE_BY_SLUG, {"slug": slug}), slug)


def _bookable(booking_type: BookingType | None, slug: str) -> BookingType:
    """What customers may see and book: an active booking type; anything else is not found."""
    if booking_type is None or booking_type.status is not BookingTypeStatus.active:
        raise NotFound(_l("no booking type %(slug)r", slug=slug), code="booking_type_not_found")
    return booking_type


_BOOKING_TYPE_WITH_FORM = (
    select(BookingType, FormVersion)
    .outerjoin(FormVersion, and_(FormVersion.booking_type_id == BookingType.id, FormVersion.version == BookingType.form_version))
    .where(BookingType.slug == bindparam("slug"))
)


def booking_type_with_form(session: Session, slug: str) -> tuple[BookingType, FormVersion]:
    """:func:`booking_type_by_slug` and its current form version, in one query."""
    booking_type, form_version = session.execute(_BOOKING_TYPE_WITH_FORM, {"slug": slug}).first() or (None, None)
    _bookable(booking_type, slug)
    if form_version is None:
        raise NotFound(
            _l("booking type %(slug)r has no form version %(form_version)s", slug=slug, form_version=booking_type.form_version), code="form_version_not_found"
        )
    return booking_type, form_version


def get_booking(session: Session, public_id: str, *, for_update: bool = False) -> Booking:
    """The booking ``public_id``; ``for_update`` locks its row and reads it afresh, even if this session loaded it before the lock."""
    query = select(Booking).where(Booking.public_id == public_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    booking = session.scalar(query)
    if booking is None:
        raise NotFound(_l("no booking %(public_id)r", public_id=public_id), code="booking_not_found")
    return booking


def find_slot(booking_type: BookingType, zone: ZoneInfo, starts_at: datetime) -> Slot:
    """The generated slot starting at ``starts_at``; a time that is not a slot is invalid input."""
    if starts_at.tzinfo is None:
        raise InvalidInput(_l("the start time needs a UTC offset"), errors=[FieldProblem("/starts_at", _l("include a time zone offset"), "naive_datetime")])
    slot = slot_at(booking_type.availability_rules, zone, starts_at)
    if slot is not None:
        return slot
    raise InvalidInput(_l("there is no slot at that time"), errors=[FieldProblem("/starts_at", _l("not a slot of this booking type"), "no_such_slot")])


def checked_request(
    session: Session,
    forms: FormRegistry,
    tenant: Tenant,
    *,
    booking_type_slug: str,
    starts_at: datetime,
    answers: dict[str, Any],
    channel: str,
    party_size: int | None,
    now: datetime,
    tickets: Mapping[str, int] | None = None,
    privacy_consent: PrivacyConsent | None = None,
) -> ValidatedRequest:
    """What booking and joining a waitlist check before they write, needing no lock.

    An active tenant, a bookable type, the form, the slot, the channel, the party and its tickets, the booking window,
    and consent to the booking type's privacy notice (read from the booking type's row: no query of its own).
    """
    require_active_tenant(tenant)
    booking_type, form_version = booking_type_with_form(session, booking_type_slug)
    plugins = plugins_of(session, tenant)
    if not plugins.offers(booking_type.vertical):
        raise Refused(_l("%(name)s no longer takes bookings of this kind", name=tenant.name), code="vertical_disabled")
    form = forms.compiled(form_version.definition)
    typed = forms.validate(form, answers)
    people = forms.people(form, typed)
    asked = requested_tickets(booking_type.ticket_types, tickets)
    slot = find_slot(booking_type, ZoneInfo(tenant.time_zone), starts_at)
    problems = []
    if channel not in slot.capacities:
        problems.append(FieldProblem("/channel", _l("choose one of %(names)s", names=", ".join(sorted(slot.capacities))), "unknown_channel"))
    if problems:
        raise InvalidInput(_l("the booking request is not valid"), errors=problems)
    # A real-name form (everyone named with an ID number) admits exactly the people named; otherwise the party
    # size or the tickets sent say how many come, or the vertical's own field does (booking_units). Any two must agree.
    real_name = bool(people) and all(person.id_number for person in people)
    persons = len(people) if real_name else party_size or sum(asked.values()) or 1
    request = request_of(plugins, booking_type, slot, channel, forms.as_json(typed), people, persons, now, tickets=asked)
    units = request.party_size
    if not 1 <= units <= booking_type.max_party_size:
        raise InvalidInput(
            _l("the booking request is not valid"),
            errors=[
                FieldProblem(
                    "/party_size",
                    _l("between 1 and %(max_party_size)s places per booking", max_party_size=booking_type.max_party_size),
                    "party_size_out_of_range",
                )
            ],
        )
    counted = _l("the form names %(units)s people", units=units) if real_name and units == persons else _l("this booking takes %(units)s places", units=units)
    problems = [FieldProblem("/party_size", counted, "party_size_mismatch")] if party_size not in (None, units) else []
    charged, ticket_problems = tickets_for_units(booking_type.ticket_types, asked, units)
    problems += ticket_problems
    if real_name and charged and not problems:
        problems = age_mismatches(booking_type.ticket_types, charged, people, id_number_pointers(form, typed), slot.local_date)
    if problems:
        raise InvalidInput(_l("the booking request is not valid"), errors=problems)
    agreed = require_consent(booking_type, privacy_consent)
    consent = None if agreed is None else PrivacyConsent(agreed, privacy_consent.channel)
    request = replace(request, view=replace(request.view, tickets=read_only(charged)), consent=consent)
    is_open, reason = bookable(booking_type.availability_rules, slot, now)
    if not is_open:
        raise Refused(_l("this slot cannot be booked now"), code=reason)
    return request


# --- writing --------------------------------------------------------------------


def allocate_resources(session: Session, booking_type: BookingType, booking: Booking) -> None:
    """Hold the resources the booking type requires for the booking's interval, all or none.

    A requirement ``per: "slot"`` (the default: a coach for a group class, a bus
    and driver for a trip) is held once by the slot, shared by its bookings on
    every channel, and usually held already since the slot was scheduled
    (:mod:`yuyue.bookings.resources`); ``per: "booking"`` (a car-wash bay, a
    rental car) is held by each booking. The unique (resource, quantum) key is
    the guarantee; the read before the insert only picks candidates, and a
    savepoint lets a request that lost a race for one coach try the next free one.
    """
    requirements = booking_type.resource_requirements
    per_slot = [r for r in requirements if r.get("per", "slot") == "slot"]
    per_booking = [r for r in requirements if r.get("per", "slot") == "booking"]
    slices = quanta(booking.starts_at, booking.ends_at)
    for _ in range(RESOURCE_ATTEMPTS):
        slot_held = bool(per_slot) and slot_holds_resources(session, booking.booking_type_id, booking.starts_at)
        wanted = per_booking + ([] if slot_held else per_slot)
        if not wanted:
            return
        chosen = _choose_resources(session, wanted, slices, ZoneInfo(session.get(Tenant, booking.tenant_id).time_zone))
        rows = [
            {
                "tenant_id": booking.tenant_id,
                "resource_id": resource_id,
                "inventory_id": booking.inventory_id if per == "slot" else None,
                "booking_id": booking.id if per == "booking" else None,
                "quantum_start": quantum,
            }
            for resource_id, per in chosen
            for quantum in slices
        ]
        try:
            with session.begin_nested():
                session.execute(insert(ResourceAllocation), rows)
            return
        except IntegrityError:
            continue
    raise Refused(_l("the required staff, vehicle or room is taken at that time"), code="resource_conflict")


_SLOT_HOLDING = (
    select(ResourceAllocation.id)
    .join(SlotInventory, SlotInventory.id == ResourceAllocation.inventory_id)
    .where(SlotInventory.booking_type_id == bindparam("slot_type"), SlotInventory.starts_at == bindparam("slot_start"))
    .limit(1)
)


def slot_holds_resources(session: Session, booking_type_id: int, starts_at: datetime) -> bool:
    """Whether the slot holds its per-slot resources, by the inventory row of any of its channels."""
    return session.scalar(_SLOT_HOLDING, {"slot_type": booking_type_id, "slot_start": starts_at}) is not None


def works_during(schedule: dict[str, list[dict[str, str]]] | None, starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> bool:
    """Whether a resource's working hours cover the interval (no schedule: always)."""
    if schedule is None:
        return True
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if end.date() != start.date() and end.time() != time(0, 0):
        return False
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[start.weekday()]
    start_text, end_text = start.strftime("%H:%M"), "24:00" if end.time() == time(0, 0) and end.date() != start.date() else end.strftime("%H:%M")
    return any(span["start"] <= start_text and end_text <= span["end"] for span in schedule.get(weekday, []))


def resource_candidates(session: Session, requirements: list[dict[str, Any]]) -> list[Any]:
    """The active resources of the kinds ``requirements`` name, by id: rows of (id, kind, schedule)."""
    kinds = {requirement["kind"] for requirement in requirements}
    return session.execute(
        select(Resource.id, Resource.kind, Resource.schedule).where(Resource.kind.in_(kinds), Resource.active.is_(True)).order_by(Resource.id)
    ).all()


def pick_resources(
    requirements: list[dict[str, Any]], candidates: list[Any], busy: set[int], starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> list[tuple[int, str]] | None:
    """Free resources for each requirement, ``[(resource_id, "slot" | "booking"), …]``, or None when one cannot be met.

    ``busy`` are the candidates already held at some moment of the interval.
    Pure, so availability judges a slot exactly as a booking would.
    """
    working = [c for c in candidates if works_during(c.schedule, starts_at, ends_at, zone)]
    chosen: list[tuple[int, str]] = []
    taken_ids: set[int] = set()
    for requirement in requirements:
        allowed, count = requirement.get("resource_ids"), requirement.get("count", 1)
        free = [c.id for c in working if c.kind == requirement["kind"] and c.id not in busy | taken_ids and (not allowed or c.id in allowed)]
        if len(free) < count:
            return None
        taken_ids.update(free[:count])
        chosen += [(resource_id, requirement.get("per", "slot")) for resource_id in free[:count]]
    return chosen


def _choose_resources(session: Session, requirements: list[dict[str, Any]], slices: list[datetime], zone: ZoneInfo) -> list[tuple[int, str]]:
    """Pick free resources for each requirement: ``[(resource_id, "slot" | "booking"), …]``."""
    candidates = resource_candidates(session, requirements)
    busy = set(
        session.scalars(
            select(ResourceAllocation.resource_id)
            .where(ResourceAllocation.resource_id.in_([c.id for c in candidates]), ResourceAllocation.quantum_start.in_(slices))
            .distinct()
        )
    )
    chosen = pick_resources(requirements, candidates, busy, slices[0], slices[-1] + QUANTUM, zone)
    if chosen is None:
        raise Refused(_l("the required staff, vehicle or room is taken at that time"), code="resource_conflict")
    return chosen


def admitted_customer(session: Session, request: ValidatedRequest, phone: str, name: str | None, now: datetime) -> tuple[Customer, ValidatedRequest]:
    """The customer with ``phone`` (created if new) and the request as theirs, once every plugin's ``validate_booking`` admits it.

    Inside the caller's write transaction. The host's own checks (bans, minors,
    quotas) are the built-in ``validate_booking`` (``yuyue.bookings.builtin``).
    """
    customer = customer_for_phone(session, phone, name)
    request = replace(request, view=replace(request.view, phone=customer.phone, customer_id=customer.id))
    admit(session, request)
    return customer, request


def admit(session: Session, request: ValidatedRequest) -> None:
    """Ask every enabled plugin's ``validate_booking``; their problems together refuse the request."""
    answers = request.plugins.collect("validate_booking", booking_type=request.view.booking_type, request=request.view, session=session)
    if not all(isinstance(answer, list | tuple) and all(isinstance(p, FieldProblem) for p in answer) for answer in answers):
        raise Refused(_l("a plugin answered validate_booking with something other than a list of problems"), code="plugin_failed")
    problems = [problem for answer in answers for problem in answer]
    if problems:
        raise InvalidInput(_l("the booking request is not valid"), errors=problems)


def place_booking(
    session: Session,
    request: ValidatedRequest,
    customer: Customer,
    *,
    now: datetime,
    actor: Actor,
    capacity_taken: bool = False,
    idempotency_key: str | None = None,
) -> Booking:
    """Write a booking for a validated request inside the caller's write transaction.

    Takes capacity (unless a waitlist offer already holds it), allocates
    resources, stores the people and the consent to the privacy notice, and records audit and outbox entries.
    """
    booking_type, slot = request.booking_type, request.slot
    inventory_id = inventory_row(session, booking_type, slot, request.channel).id if capacity_taken else take_places(session, request)
    quote = request.plugins.first("quote_price", booking_type=request.view.booking_type, request=request.view)
    holds = booking_type.hold_minutes > 0 and quote.total > 0
    booking = Booking(
        public_id=uuid.uuid4().hex,
        booking_type=booking_type,
        customer_id=customer.id,
        inventory_id=inventory_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        local_date=slot.local_date,
        channel=request.channel,
        party_size=request.party_size,
        status=BookingStatus.held if holds else BookingStatus.confirmed,
        hold_expires_at=now + timedelta(minutes=booking_type.hold_minutes) if holds else None,
        form_version=booking_type.form_version,
        answers=request.answers,
        price_amount=quote.total,
        currency=quote.currency,
        tickets=dict(request.view.tickets),
        price_lines=charged_lines(quote, booking_type.ticket_types),
        voucher_code=None if holds else new_voucher_code(),
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    consent = request.consent
    # Logged before the flush so the booking and its outbox event go in one; a refusal below rolls back all three.
    log_change(
        session,
        booking,
        actor,
        f"booking.{booking.status.value}",
        {"slot": slot.starts_at.isoformat(), "party_size": request.party_size, "channel": request.channel} | (consent.audit_data() if consent else {}),
    )
    session.flush()
    if consent is not None:
        record_consent(session, consent, customer.id, booking_type.id, now, booking_id=booking.id)
    allocate_resources(session, booking_type, booking)
    if request.people:
        session.execute(insert(BookingPerson), [person_row(booking, booking_type, person) for person in request.people])
    request.plugins.collect("booking_placed", booking=BookingView.of(booking, request.view.booking_type), request=request.view, session=session)
    return booking


def charged_lines(quote: PriceQuote, ticket_types: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The quote's lines as a booking keeps them; a line for a ticket type that asks for proof at entry carries it."""
    proofs = {ticket_type["key"]: ticket_type.get("proof") for ticket_type in ticket_types}
    return [
        {
            "key": line.key,
            "label": thawed(line.label),
            "unit_amount": line.unit_amount,
            "quantity": line.quantity,
            "amount": line.amount,
            "proof": proofs.get(line.key),
        }
        for line in quote.lines
    ]


def thawed(value: Any) -> Any:
    """A read-only view's value (``read_only``) as plain JSON again, to store it."""
    if isinstance(value, Mapping):
        return {key: thawed(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thawed(item) for item in value]
    return value


def person_row(booking: Booking, booking_type: BookingType, person: Person, *, on_name_list: bool = False) -> dict[str, Any]:
    """The ``booking_persons`` row of someone ``booking`` admits: named on its form, or on its group's name list."""
    return {
        "tenant_id": booking.tenant_id,
        "booking_id": booking.id,
        "name": person.name,
        "id_number": person.id_number,
        "phone": person.phone,
        "birth_date": person.birth_date,
        "is_minor": is_minor(booking_type.policies, person, booking.local_date),
        "local_date": booking.local_date,
        "on_name_list": on_name_list,
    }


def take_places(session: Session, request: ValidatedRequest) -> int:
    """Take the request's places in its slot and its day (conditional UPDATEs); the id of the slot's inventory row.

    :raises Refused: ``slot_closed``, ``slot_full`` or ``daily_cap_reached``.
    """
    return inventory.take_places(session, request.booking_type, request.slot, request.channel, request.party_size)


def booking_view(session: Session, booking: Booking) -> BookingView:
    """``booking`` as behaviour hooks see it."""
    return BookingView.of(booking, BookingTypeView.of(session.get(BookingType, booking.booking_type_id)))


def log_change(session: Session, booking: Booking, actor: Actor, action: str, data: dict[str, Any]) -> None:
    """The audit record and the outbox event of one booking state change, in the same transaction."""
    payload = {"booking": booking.public_id, "status": booking.status.value, **data}
    record_change(session, actor=str(actor), action=action, subject_type="booking", subject_id=booking.public_id, payload=payload)
