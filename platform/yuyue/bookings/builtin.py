"""The host's own booking behaviour, as hook implementations like any plugin's.

Registered from ``yuyue.plugins.DEFAULT_PLUGINS`` before installed plugins, and
marked ``trylast`` where one answer wins, so a vertical's answer comes first
and these are the defaults: a request takes one place per person, costs the
price of each ticket asked for (else the booking type's price per place), and is cancelled or moved under the booking
type's policies. ``validate_booking`` applies the booking type's bans, minors
rules and quotas (``yuyue.bookings.policies``). Lower areas (the catalog)
reach the booking area only through these hooks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingRequest, BookingTypeView, BookingView, CancellationTerms, PriceLine, PriceQuote, RescheduleTerms
from yuyue.bookings import policies
from yuyue.bookings.models import Booking
from yuyue.bookings.resources import reschedule_resources
from yuyue.bookings.waitlist import promote
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Customer
from yuyue.hookspecs import hookimpl


@hookimpl(trylast=True)
def booking_units(request: BookingRequest) -> int:
    return request.persons


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, session: Session) -> None:
    """Bans, minors and quotas; refusals raise with the rule's code (``banned``, ``quota_exceeded``, …)."""
    customer = session.get(Customer, request.customer_id)
    rules = booking_type.policies
    policies.lock_identities(session, policies.identity_keys(customer, request.people, rules))
    moving = session.scalar(select(Booking.id).where(Booking.public_id == request.moves)) if request.moves else None
    policies.check_booking(
        session,
        policies=rules,
        customer=customer,
        people=request.people,
        local_date=request.local_date,
        party_size=request.units,
        now=request.at,
        booking_type_id=booking_type.id,
        exclude_booking_id=moving,
    )


@hookimpl(trylast=True)
def quote_price(booking_type: BookingTypeView, request: BookingRequest) -> PriceQuote:
    """A line per ticket type asked for (its price × its places), in the booking type's order; without tickets, its price per place."""
    if request.tickets:
        lines = tuple(
            PriceLine(ticket_type["key"], ticket_type["name"], ticket_type["price_amount"], request.tickets[ticket_type["key"]])
            for ticket_type in booking_type.ticket_types
            if ticket_type["key"] in request.tickets
        )
        return PriceQuote(lines, booking_type.currency)
    return PriceQuote((PriceLine("place", booking_type.name, booking_type.price_amount, request.units),), booking_type.currency)


@hookimpl(trylast=True)
def cancellation_terms(booking: BookingView, now: datetime) -> CancellationTerms:
    return policies.cancellation_terms(booking.booking_type.policies, booking.starts_at, now)


@hookimpl(trylast=True)
def reschedule_terms(booking: BookingView, now: datetime) -> RescheduleTerms:
    return policies.reschedule_terms(booking.booking_type.policies, booking, now)


@hookimpl
def capacity_added(inventory_ids: list[int], now: datetime, session: Session) -> None:
    """Places added to a full slot go to its waitlist first."""
    for inventory_id in inventory_ids:
        promote(session, inventory_id, now)


@hookimpl
def booking_type_scheduled(booking_type: BookingTypeView, now: datetime, session: Session) -> None:
    """Future slots hold their per-slot resources from now on (``yuyue.bookings.resources``)."""
    reschedule_resources(session, session.get(BookingType, booking_type.id), now)
