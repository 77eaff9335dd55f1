"""What the behaviour hooks see and answer: read-only views of a booking type, a request and a booking; price quotes; terms.

Hooks get these views rather than the host's rows, so a plugin cannot change
a row by accident and the host may change its tables without breaking a
plugin. The views are frozen and their mappings read-only; a hook that must
write (its own rows, a ledger entry) does so through the ``session`` it is
given, inside the transaction of the change it is told about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

__all__ = [
    "BookingRequest",
    "BookingTypeView",
    "BookingView",
    "CancellationTerms",
    "EventView",
    "MinimumParticipants",
    "Person",
    "PriceLine",
    "PriceQuote",
    "RescheduleTerms",
    "RouteStopView",
    "read_only",
]


def read_only(value: Any) -> Any:
    """``value`` with every dict turned into a read-only mapping and every list into a tuple, however deep."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: read_only(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(read_only(item) for item in value)
    return value


@dataclass(frozen=True)
class BookingTypeView:
    """A merchant's booking type as hooks see it; ``vertical`` says which plugin's offering it is.

    ``ticket_types`` are the kinds of place it sells, each a mapping with
    ``key``, ``name``, ``price_amount`` and optionally ``proof``, ``min_age``
    and ``max_age`` (empty: one kind, at ``price_amount`` a place).
    """

    id: int
    slug: str
    vertical: str
    name: Any
    price_amount: int
    currency: str
    max_party_size: int
    hold_minutes: int
    policies: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    ticket_types: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(cls, row: Any) -> BookingTypeView:
        return cls(
            id=row.id,
            slug=row.slug,
            vertical=row.vertical,
            name=read_only(row.name),
            price_amount=row.price_amount,
            currency=row.currency,
            max_party_size=row.max_party_size,
            hold_minutes=row.hold_minutes,
            policies=read_only(row.policies or {}),
            ticket_types=read_only(row.ticket_types or []),
        )


@dataclass(frozen=True)
class Person:
    """Someone a booking admits: the booker or a companion; ``birth_date`` comes from the ID number when the form does not ask for it."""

    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    birth_date: date | None = None


@dataclass(frozen=True)
class BookingRequest:
    """A booking request after the host checked its form, slot and channel, before anything is written.

    ``answers`` are the form's answers as JSON values (dates as ISO strings).
    ``persons`` is the headcount the request states: the people named on a
    real-name form (everyone with an ID number), else the party size or the
    tickets' sum sent (1 if neither); ``units`` the places it takes, as
    ``booking_units`` answered (``persons`` by default); ``at`` when it was made. ``phone`` and ``customer_id`` are those
    of the booker; the customer id is ``None`` until the booker's account is
    known (inside the write transaction, where ``validate_booking`` runs, it is
    always set). ``moves`` is the public id of the booking a reschedule moves:
    leave that booking out when counting the booker's others. ``tickets`` is
    how many places of each of the booking type's ticket types were asked for
    (``{"adult": 2, "child": 1}``; empty when the type sells no ticket types).
    ``booking_units`` sees the tickets as sent; later hooks see them as the
    booking carries them (every place of the only ticket type, if none was sent).
    """

    booking_type: BookingTypeView
    starts_at: datetime
    ends_at: datetime
    local_date: date
    channel: str
    answers: Mapping[str, Any]
    people: tuple[Person, ...]
    persons: int
    units: int
    at: datetime
    phone: str | None = None
    customer_id: int | None = None
    moves: str | None = None
    tickets: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class BookingView:
    """A booking as hooks see it. ``units`` is the number of places it holds; ``tickets`` how many of them of each ticket type."""

    public_id: str
    booking_type: BookingTypeView
    status: str
    starts_at: datetime
    ends_at: datetime
    local_date: date
    channel: str
    units: int
    answers: Mapping[str, Any]
    price_amount: int
    currency: str
    customer_id: int
    reschedule_count: int
    created_at: datetime
    tickets: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, row: Any, booking_type: BookingTypeView) -> BookingView:
        return cls(
            public_id=row.public_id,
            booking_type=booking_type,
            status=row.status.value,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            local_date=row.local_date,
            channel=row.channel,
            units=row.party_size,
            answers=read_only(row.answers or {}),
            price_amount=row.price_amount,
            currency=row.currency,
            customer_id=row.customer_id,
            reschedule_count=row.reschedule_count or 0,
            created_at=row.created_at,
            tickets=read_only(row.tickets or {}),
        )


@dataclass(frozen=True)
class PriceLine:
    """One line of a quote: ``quantity`` × ``unit_amount`` (minor units, fen) of what ``key`` names."""

    key: str
    label: Any
    unit_amount: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class PriceQuote:
    """What a booking costs: its lines and their total, in minor units of ``currency``. The amount charged is ``total``."""

    lines: tuple[PriceLine, ...]
    currency: str = "CNY"

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class CancellationTerms:
    """What cancelling now means for a booking.

    ``code`` is ``on_time``, ``cancellation_closed`` (not allowed: late with
    action ``refuse``, or the slot has started), or ``late_deduct_points``,
    ``late_fee``, ``late_no_show`` for the late action that applies.
    ``deadline`` is the last moment a cancellation is on time (``None``: until
    the slot starts). A paid booking is refunded ``100 - fee_percent`` percent.
    """

    allowed: bool
    late: bool
    points: int = 0
    fee_percent: int = 0
    counts_as_no_show: bool = False
    code: str = "on_time"
    deadline: datetime | None = None

    @property
    def refund_percent(self) -> int:
        return 100 - self.fee_percent if self.allowed else 0


@dataclass(frozen=True)
class RescheduleTerms:
    """Whether a booking may move now: ``code`` is ``on_time``, ``reschedule_closed`` or ``reschedule_limit``.

    ``message`` says why not, for the customer; ``deadline`` is the last moment a move is allowed.
    """

    allowed: bool
    code: str = "on_time"
    message: str = ""
    deadline: datetime | None = None


@dataclass(frozen=True)
class MinimumParticipants:
    """A session runs only with at least ``participants`` places taken, decided ``decided_hours_before`` its start.

    At that time the host's worker closes a session still below the minimum and
    cancels its bookings (refunding what was paid), or confirms it; either way once.
    """

    participants: int
    decided_hours_before: int

    def decided_at(self, starts_at: datetime) -> datetime:
        return starts_at - timedelta(hours=self.decided_hours_before)


@dataclass(frozen=True)
class RouteStopView:
    """A pick-up or drop-off point of a booking type's route; ``kind`` is ``pickup``, ``dropoff`` or ``both``."""

    code: str
    name: Any
    kind: str
    minutes_after_departure: int
    position: int
    active: bool

    @property
    def picks_up(self) -> bool:
        return self.kind in ("pickup", "both")

    @property
    def drops_off(self) -> bool:
        return self.kind in ("dropoff", "both")

    def reached_at(self, departure: datetime) -> datetime:
        """When a trip leaving at ``departure`` reaches this stop."""
        return departure + timedelta(minutes=self.minutes_after_departure)


@dataclass(frozen=True)
class EventView:
    """An outbox event as ``handle_event`` sees it: what happened (``topic``, ``payload``), where (``tenant``, the slug) and when.

    ``message_id`` is the plugin's delivery of this event: the same on every
    attempt and on a replay, so a plugin that passes the event on can let its
    receiver drop what it has seen already.
    """

    id: int
    tenant: str
    topic: str
    payload: Mapping[str, Any]
    created_at: datetime
    message_id: str
