"""Reading bookings: for staff a filtered search in pages and one booking with its customer, people and check-in; for plugins the active bookings a booker holds.

Pages are cut by keyset on (``starts_at``, ``id``), never by offset, so a
booking made or cancelled while staff page through neither repeats nor skips
a row. The cursor is opaque to clients: base64 of the last row's key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from yuyue import json_input
from yuyue.behaviour import BookingTypeView, BookingView
from yuyue.bookings.consents import booking_consents
from yuyue.bookings.models import ACTIVE_STATUSES, Booking, BookingPerson, BookingStatus, CheckIn, Consent, ResourceAllocation
from yuyue.bookings.placement import get_booking
from yuyue.bookings.vouchers import normalize_code
from yuyue.catalog.models import BookingType, Resource
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.forms.models import FormVersion
from yuyue.tenancy.models import Tenant

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Rows read per query while an export walks every match.
EXPORT_BATCH = 500


@dataclass(frozen=True)
class BookingFilters:
    """Which bookings staff want: slot dates (tenant-local, inclusive), statuses, a booking type, a channel, a resource, free text.

    ``text`` matches the customer's or a listed person's phone or name (substring,
    case-insensitive) or the voucher code. ``resource`` is a resource's code: the
    bookings it serves, held by the booking itself or by its slot (a class's coach).
    """

    date_from: date | None = None
    date_to: date | None = None
    statuses: Collection[BookingStatus] = ()
    booking_type: str | None = None
    text: str | None = None
    channel: str | None = None
    resource: str | None = None


# The query parameters that filter bookings, as the merchant API, its exports and the admin's desk name them.
FILTER_NAMES = ("from", "to", "status", "booking_type", "q", "channel", "resource")
MAX_TEXT = 100


def filters_from_query(args: Mapping[str, str], allowed: Collection[str]) -> BookingFilters:
    """The filters of a query string (``from``, ``to``, ``status``, …); every problem is reported at once, pointed at by parameter name.

    :raises InvalidInput: for a parameter not in ``allowed``, a date that is not ``YYYY-MM-DD``,
        an unknown status, or text over :data:`MAX_TEXT` characters.
    """
    problems = [
        FieldProblem(f"/{name}", _l("unknown query parameter; use %(names)s", names=", ".join(allowed)), "unknown_parameter")
        for name in args
        if name not in allowed
    ]
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        value = args.get(name)
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            dates[name] = None
            problems.append(FieldProblem(f"/{name}", _l("a date as YYYY-MM-DD"), "invalid_date"))
    statuses = [s.strip() for s in args.get("status", "").split(",") if s.strip()]
    for status in statuses:
        if status not in BookingStatus.__members__:
            problems.append(
                FieldProblem("/status", _l("%(status)r is not one of %(names)s", status=status[:MAX_TEXT], names=", ".join(BookingStatus)), "invalid_status")
            )
    for name in ("q", "booking_type", "channel", "resource"):
        value = args.get(name)
        if value is not None and len(value) > MAX_TEXT:
            problems.append(FieldProblem(f"/{name}", _l("at most %(max_text)s characters", max_text=MAX_TEXT), "too_long"))
    if problems:
        raise InvalidInput(_l("the query parameters are not valid"), errors=problems)
    return BookingFilters(
        date_from=dates["from"],
        date_to=dates["to"],
        statuses=tuple(BookingStatus(s) for s in statuses),
        booking_type=args.get("booking_type") or None,
        text=args.get("q"),
        channel=args.get("channel") or None,
        resource=args.get("resource") or None,
    )


def filters_as_query(filters: BookingFilters) -> dict[str, str]:
    """The query string that :func:`filters_from_query` reads back as ``filters`` (for links that keep them)."""
    query = {
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
        "status": ",".join(s.value for s in filters.statuses),
        "booking_type": filters.booking_type or "",
        "q": filters.text or "",
        "channel": filters.channel or "",
        "resource": filters.resource or "",
    }
    return {name: value for name, value in query.items() if value}


EVERY_BOOKING = BookingFilters()


@dataclass(frozen=True)
class BookingRecord:
    """A booking as staff see it, with what it refers to."""

    booking: Booking
    booking_type: BookingType
    customer: Customer
    people: list[BookingPerson] = field(default_factory=list)
    check_in: CheckIn | None = None
    # Consents to the booking type's privacy notice given for it (usually one; none when it had no notice).
    consents: list[Consent] = field(default_factory=list)


@dataclass(frozen=True)
class BookingPage:
    records: list[BookingRecord]
    # None on the last page.
    next_cursor: str | None


def search_bookings(
    session: Session,
    tenant: Tenant,
    filters: BookingFilters = EVERY_BOOKING,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> BookingPage:
    """One page of ``tenant``'s bookings matching ``filters``, by slot start then id.

    :raises InvalidInput: for a cursor this function did not issue (pointer ``/cursor``),
        a limit outside 1…:data:`MAX_PAGE_SIZE` (``/limit``), or ``date_to`` before ``date_from`` (``/to``).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            _l("the page size is out of range"),
            errors=[FieldProblem("/limit", _l("between 1 and %(max_page_size)s", max_page_size=MAX_PAGE_SIZE), "out_of_range")],
        )
    check_filters(filters)
    after = decode_cursor(cursor) if cursor else None
    with tenant_scope(tenant.id):
        records = _records(session, _matching(filters), after, limit + 1)
    more = len(records) > limit
    records = records[:limit]
    return BookingPage(records, encode_cursor(records[-1].booking) if more else None)


def iter_bookings(session: Session, tenant: Tenant, filters: BookingFilters = EVERY_BOOKING, *, batch: int = EXPORT_BATCH) -> Iterator[BookingRecord]:
    """Every booking matching ``filters`` in page order, read ``batch`` rows at a time (for exports)."""
    check_filters(filters)
    statement = _matching(filters)
    after: tuple[datetime, int] | None = None
    while True:
        with tenant_scope(tenant.id):
            records = _records(session, statement, after, batch)
        yield from records
        if len(records) < batch:
            return
        after = (records[-1].booking.starts_at, records[-1].booking.id)


def form_versions_used(session: Session, tenant: Tenant, filters: BookingFilters = EVERY_BOOKING) -> list[FormVersion]:
    """The form versions the bookings matching ``filters`` were validated against, newest first within each booking type.

    An export heads a column for each of their fields before it reads a row.
    """
    check_filters(filters)
    used = _matching(filters).with_only_columns(Booking.booking_type_id, Booking.form_version).distinct().subquery()
    statement = (
        select(FormVersion)
        .join(used, and_(FormVersion.booking_type_id == used.c.booking_type_id, FormVersion.version == used.c.form_version))
        .order_by(FormVersion.booking_type_id, FormVersion.version.desc())
    )
    with tenant_scope(tenant.id):
        return list(session.scalars(statement))


def booking_record(session: Session, tenant: Tenant, public_id: str) -> BookingRecord:
    """One booking of ``tenant`` by its public id.

    :raises NotFound: ``booking_not_found`` if ``tenant`` has no such booking.
    """
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        return booking_records(session, [booking])[0]


def encode_cursor(booking: Booking) -> str:
    key = json.dumps([booking.starts_at.isoformat(), booking.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        starts_at, booking_id = json_input.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = datetime.fromisoformat(starts_at), booking_id
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        key = None
    if key is None or key[0].tzinfo is None or not isinstance(key[1], int) or isinstance(key[1], bool) or not 0 < key[1] < 2**63:
        raise InvalidInput(_l("the cursor is not valid"), errors=[FieldProblem("/cursor", _l("pass back a next_cursor exactly as received"), "invalid_cursor")])
    return key


def check_filters(filters: BookingFilters) -> None:
    """:raises InvalidInput: if the filters cannot match anything by construction (``to`` before ``from``)."""
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise InvalidInput(_l("the date range is empty"), errors=[FieldProblem("/to", _l("must not be before 'from'"), "invalid_range")])


def _matching(filters: BookingFilters) -> Select:
    statement = select(Booking)
    if filters.date_from:
        statement = statement.where(Booking.local_date >= filters.date_from)
    if filters.date_to:
        statement = statement.where(Booking.local_date <= filters.date_to)
    if filters.statuses:
        statement = statement.where(Booking.status.in_(list(filters.statuses)))
    if filters.booking_type:
        statement = statement.join(BookingType, BookingType.id == Booking.booking_type_id).where(BookingType.slug == filters.booking_type)
    if filters.channel:
        statement = statement.where(Booking.channel == filters.channel)
    if filters.resource:
        held = exists().where(
            ResourceAllocation.resource_id == Resource.id,
            Resource.code == filters.resource,
            or_(ResourceAllocation.booking_id == Booking.id, ResourceAllocation.inventory_id == Booking.inventory_id),
        )
        statement = statement.where(held)
    text = (filters.text or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        customer_matches = exists().where(
            Customer.id == Booking.customer_id, or_(Customer.phone.like(pattern, escape="\\"), Customer.name.ilike(pattern, escape="\\"))
        )
        person_matches = exists().where(
            BookingPerson.booking_id == Booking.id, or_(BookingPerson.phone.like(pattern, escape="\\"), BookingPerson.name.ilike(pattern, escape="\\"))
        )
        statement = statement.where(or_(Booking.voucher_code == normalize_code(text), customer_matches, person_matches))
    return statement


def _records(session: Session, statement: Select, after: tuple[datetime, int] | None, limit: int) -> list[BookingRecord]:
    if after is not None:
        starts_at, booking_id = after
        statement = statement.where(or_(Booking.starts_at > starts_at, and_(Booking.starts_at == starts_at, Booking.id > booking_id)))
    bookings = list(session.scalars(statement.order_by(Booking.starts_at, Booking.id).limit(limit)))
    return booking_records(session, bookings)


def booking_records(session: Session, bookings: list[Booking]) -> list[BookingRecord]:
    """Attach booking types, customers, people, check-ins and consents with one query each, whatever the number of bookings."""
    if not bookings:
        return []
    ids = [b.id for b in bookings]
    types = {t.id: t for t in session.scalars(select(BookingType).where(BookingType.id.in_({b.booking_type_id for b in bookings})))}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_({b.customer_id for b in bookings})))}
    people: dict[int, list[BookingPerson]] = {}
    for person in session.scalars(select(BookingPerson).where(BookingPerson.booking_id.in_(ids)).order_by(BookingPerson.id)):
        people.setdefault(person.booking_id, []).append(person)
    check_ins = {c.booking_id: c for c in session.scalars(select(CheckIn).where(CheckIn.booking_id.in_(ids)))}
    consents = booking_consents(session, ids)
    return [
        BookingRecord(b, types[b.booking_type_id], customers[b.customer_id], people.get(b.id, []), check_ins.get(b.id), consents.get(b.id, []))
        for b in bookings
    ]


def active_bookings(
    session: Session,
    *,
    vertical: str | None = None,
    booking_type_id: int | None = None,
    customer_id: int | None = None,
    phone: str | None = None,
    id_number: str | None = None,
    local_dates: Collection[date] | None = None,
    starts_at: datetime | None = None,
    excluding: str | None = None,
) -> list[BookingView]:
    """The current tenant's active bookings (held, confirmed, checked in, completed) matching every filter given.

    For plugins that count what a booker already holds (a weekly class limit,
    bookings per trip and phone): ``phone`` matches bookings made by that phone's
    account or naming a person with that phone; ``id_number`` matches bookings
    naming a person with that ID number; ``local_dates`` are slot dates;
    ``excluding`` is the public id of a booking to leave out (the one a
    reschedule moves: ``BookingRequest.moves``).
    Call :func:`~yuyue.bookings.policies.lock_identities` first, in the same
    transaction, so two concurrent bookings of one identity cannot both count
    the other out.
    """
    statement = select(Booking, BookingType).join(BookingType, BookingType.id == Booking.booking_type_id).where(Booking.status.in_(ACTIVE_STATUSES))
    if vertical is not None:
        statement = statement.where(BookingType.vertical == vertical)
    if booking_type_id is not None:
        statement = statement.where(Booking.booking_type_id == booking_type_id)
    if customer_id is not None:
        statement = statement.where(Booking.customer_id == customer_id)
    if phone is not None:
        by_account = exists().where(Customer.id == Booking.customer_id, Customer.phone == phone)
        naming = exists().where(BookingPerson.booking_id == Booking.id, BookingPerson.phone == phone)
        statement = statement.where(or_(by_account, naming))
    if id_number is not None:
        statement = statement.where(exists().where(BookingPerson.booking_id == Booking.id, BookingPerson.id_number == id_number))
    if local_dates is not None:
        statement = statement.where(Booking.local_date.in_(sorted(set(local_dates))))
    if starts_at is not None:
        statement = statement.where(Booking.starts_at == starts_at)
    if excluding is not None:
        statement = statement.where(Booking.public_id != excluding)
    views: dict[int, BookingTypeView] = {}
    return [
        BookingView.of(booking, views.setdefault(booking_type.id, BookingTypeView.of(booking_type)))
        for booking, booking_type in session.execute(statement.order_by(Booking.starts_at, Booking.id))
    ]
