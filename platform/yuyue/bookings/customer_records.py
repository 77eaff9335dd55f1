"""A tenant's customers as its staff know them: found by name, phone or ID number with what their bookings, points and
bans say; one customer's record; and what staff do about a customer (points, bans, tags and a note), audited and announced.

It sits with the bookings, not in :mod:`yuyue.customers`, because a customer is known through their bookings (the ID
numbers are on the people they booked for, no-shows are bookings) and because each change is announced with
:func:`yuyue.events.operations.record_change`; the customers area lies below bookings and beside events, and imports neither.

A customer's bans are those on the customer, on their phone, and on the ID numbers of their companions and of the people
on their bookings: every ban that stops some booking of theirs (decisions §19 for what staff see of those numbers).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from yuyue import json_input
from yuyue.bookings.consents import ConsentLine, consents_of_customer
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus
from yuyue.bookings.placement import Actor
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, EXPORT_BATCH, MAX_PAGE_SIZE, MAX_TEXT, BookingRecord, booking_records
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, PointsEntry
from yuyue.customers.operations import MAX_BAN_DAYS, checked_text, get_customer, masked_mentions, normalize_id_number, normalize_phone
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound
from yuyue.events.operations import record_change
from yuyue.tenancy.models import Tenant

__all__ = [
    "CUSTOMER_FILTER_NAMES",
    "MAX_NOTE_LENGTH",
    "MAX_POINTS_DELTA",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "TAG_PATTERN",
    "CustomerFilters",
    "CustomerPage",
    "CustomerRecord",
    "CustomerRow",
    "adjust_points",
    "annotate_customer",
    "customer_filters_from_query",
    "customer_record",
    "impose_ban",
    "iter_customers",
    "lift_ban",
    "search_customers",
]

MAX_TAGS = 20
MAX_TAG_LENGTH = 30
# A tag is found by its JSON spelling inside the stored list, so it may hold no quote, backslash or control character.
TAG_PATTERN = r'^[^"\\\x00-\x1f\x7f]+$'
_TAG = re.compile(TAG_PATTERN)
MAX_NOTE_LENGTH = Customer.__table__.c.note.type.length
# One adjustment by staff; the ledger's balance may still grow past it by many.
MAX_POINTS_DELTA = 100_000
# What a customer's page lists of each kind, newest first.
RECENT_BOOKINGS = 50
LEDGER_LINES = 100
# The query parameters that filter customers, as the merchant API and its export name them.
CUSTOMER_FILTER_NAMES = ("q", "tag")
# A masked phone keeps its last four digits in view, so that many may be searched for by those who see it masked.
VISIBLE_PHONE_DIGITS = 4
_DIGITS = re.compile(r"[0-9]+")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_NO_SHOW = or_(Booking.status == BookingStatus.no_show, Booking.counts_as_no_show.is_(True))


# -- finding customers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerFilters:
    """Which customers staff look for: ``text`` matches a name (part of it), a phone (digits) or an ID number (whole);
    ``tag`` one of the merchant's tags exactly."""

    text: str | None = None
    tag: str | None = None


def customer_filters_from_query(args: Mapping[str, str], allowed: Collection[str]) -> CustomerFilters:
    """The filters of a query string; every problem is reported at once, pointed at by parameter name.

    :raises InvalidInput: for a parameter not in ``allowed`` or text over :data:`~yuyue.bookings.queries.MAX_TEXT` characters.
    """
    problems = [
        FieldProblem(f"/{name}", _l("unknown query parameter; use %(names)s", names=", ".join(allowed)), "unknown_parameter")
        for name in args
        if name not in allowed
    ]
    for name in CUSTOMER_FILTER_NAMES:
        value = args.get(name)
        if value is not None and len(value) > MAX_TEXT:
            problems.append(FieldProblem(f"/{name}", _l("at most %(max_text)s characters", max_text=MAX_TEXT), "too_long"))
    if problems:
        raise InvalidInput(_l("the query parameters are not valid"), errors=problems)
    return CustomerFilters(text=args.get("q") or None, tag=args.get("tag") or None)


@dataclass(frozen=True)
class CustomerRow:
    """A customer in a list: how many bookings they made (whatever became of them), their points, whether a ban holds now."""

    customer: Customer
    bookings: int
    points: int
    banned: bool


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    # None on the last page.
    next_cursor: str | None


def search_customers(
    session: Session,
    tenant: Tenant,
    filters: CustomerFilters,
    *,
    masked: bool,
    now: datetime,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> CustomerPage:
    """One page of ``tenant``'s customers matching ``filters``, newest first (keyset on the id, as bookings page).

    ``masked``: the reader sees phones masked, so a phone is found by the whole number or by its last
    :data:`VISIBLE_PHONE_DIGITS` digits only: searching by parts would uncover the digits the mask hides.

    :raises InvalidInput: for a cursor this function did not issue (``/cursor``) or a limit outside 1…:data:`MAX_PAGE_SIZE` (``/limit``).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(
            _l("the page size is out of range"),
            errors=[FieldProblem("/limit", _l("between 1 and %(max_page_size)s", max_page_size=MAX_PAGE_SIZE), "out_of_range")],
        )
    statement = _matching(filters, masked)
    if cursor:
        statement = statement.where(Customer.id < _decode_cursor(cursor))
    with tenant_scope(tenant.id):
        customers = list(session.scalars(statement.order_by(Customer.id.desc()).limit(limit + 1)))
        more = len(customers) > limit
        customers = customers[:limit]
        rows = _rows(session, customers, now)
    return CustomerPage(rows, _encode_cursor(customers[-1].id) if more else None)


def iter_customers(
    session: Session, tenant: Tenant, filters: CustomerFilters, *, masked: bool, now: datetime, batch: int = EXPORT_BATCH
) -> Iterator[CustomerRow]:
    """Every customer matching ``filters`` in page order, read ``batch`` at a time (for exports)."""
    statement = _matching(filters, masked)
    before: int | None = None
    while True:
        with tenant_scope(tenant.id):
            page = statement if before is None else statement.where(Customer.id < before)
            customers = list(session.scalars(page.order_by(Customer.id.desc()).limit(batch)))
            rows = _rows(session, customers, now)
        yield from rows
        if len(customers) < batch:
            return
        before = customers[-1].id


def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching(filters: CustomerFilters, masked: bool) -> Select:
    statement = select(Customer).where(Customer.merged_into_id.is_(None))
    if filters.tag:
        # The list is stored as JSON text; the tag's own JSON spelling, quotes included, is one whole element of it.
        statement = statement.where(cast(Customer.tags, String).like(_contains(json.dumps(filters.tag)), escape="\\"))
    text = (filters.text or "").strip()
    if not text:
        return statement
    found = [Customer.name.ilike(_contains(text), escape="\\")]
    digits = _PHONE_SEPARATORS.sub("", text)
    if _DIGITS.fullmatch(digits):
        if not masked:
            found.append(Customer.phone.like(_contains(digits), escape="\\"))
        elif len(digits) <= VISIBLE_PHONE_DIGITS:
            found.append(Customer.phone.like("%" + digits))
    phone = _valid(normalize_phone, text)
    if phone:
        found.append(Customer.phone == phone)
    id_number = _valid(normalize_id_number, text)
    if id_number:
        found.append(exists().where(Companion.customer_id == Customer.id, Companion.id_number == id_number))
        found.append(exists().where(Booking.customer_id == Customer.id, BookingPerson.booking_id == Booking.id, BookingPerson.id_number == id_number))
    return statement.where(or_(*found))


def _valid(normalize: Any, text: str) -> str | None:
    try:
        return normalize(text)
    except InvalidInput:
        return None


def _encode_cursor(customer_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([customer_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        (customer_id,) = json_input.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        customer_id = None
    if not isinstance(customer_id, int) or isinstance(customer_id, bool) or not 0 < customer_id < 2**63:
        raise InvalidInput(_l("the cursor is not valid"), errors=[FieldProblem("/cursor", _l("pass back a next_cursor exactly as received"), "invalid_cursor")])
    return customer_id


def _rows(session: Session, customers: list[Customer], now: datetime) -> list[CustomerRow]:
    """Bookings, points and bans of a page of customers, one query each whatever the page's length."""
    if not customers:
        return []
    ids = [c.id for c in customers]
    bookings = dict(session.execute(select(Booking.customer_id, func.count()).where(Booking.customer_id.in_(ids)).group_by(Booking.customer_id)).all())
    points = dict(
        session.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.delta)).where(PointsEntry.customer_id.in_(ids)).group_by(PointsEntry.customer_id)
        ).all()
    )
    bans = _bans_of(session, customers, in_force_at=now)
    return [CustomerRow(c, bookings.get(c.id, 0), int(points.get(c.id) or 0), bool(bans[c.id])) for c in customers]


def _id_numbers_of(session: Session, customer_ids: list[int]) -> dict[int, set[str]]:
    """The ID numbers of each customer's companions and of the people on their bookings."""
    numbers: dict[int, set[str]] = defaultdict(set)
    companions = select(Companion.customer_id, Companion.id_number).where(Companion.customer_id.in_(customer_ids), Companion.id_number.is_not(None))
    booked = (
        select(Booking.customer_id, BookingPerson.id_number)
        .join(Booking, Booking.id == BookingPerson.booking_id)
        .where(Booking.customer_id.in_(customer_ids), BookingPerson.id_number.is_not(None))
        .distinct()
    )
    for statement in (companions, booked):
        for customer_id, number in session.execute(statement):
            numbers[customer_id].add(number)
    return numbers


def _bans_of(session: Session, customers: list[Customer], *, in_force_at: datetime | None = None) -> dict[int, list[Ban]]:
    """Each customer's bans (see the module's docstring), latest end first; only those in force at ``in_force_at`` if given."""
    owners: dict[tuple[BanSubject, str], set[int]] = defaultdict(set)
    for customer_id, numbers in _id_numbers_of(session, [c.id for c in customers]).items():
        for number in numbers:
            owners[(BanSubject.id_number, number)].add(customer_id)
    for customer in customers:
        owners[(BanSubject.customer, str(customer.id))].add(customer.id)
        if customer.phone:
            owners[(BanSubject.phone, customer.phone)].add(customer.id)
    subjects: dict[BanSubject, list[str]] = defaultdict(list)
    for kind, subject in owners:
        subjects[kind].append(subject)
    statement = select(Ban).where(or_(*(and_(Ban.subject_kind == kind, Ban.subject.in_(sorted(values))) for kind, values in subjects.items())))
    if in_force_at is not None:
        statement = statement.where(Ban.starts_at <= in_force_at, Ban.ends_at > in_force_at)
    bans: dict[int, list[Ban]] = {c.id: [] for c in customers}
    for ban in session.scalars(statement.order_by(Ban.ends_at.desc(), Ban.id.desc())):
        for customer_id in owners[(ban.subject_kind, ban.subject)]:
            bans[customer_id].append(ban)
    return bans


# -- one customer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRecord:
    """What a customer's page shows; lists newest first and bounded (:data:`RECENT_BOOKINGS`, :data:`LEDGER_LINES`)."""

    customer: Customer
    bookings_count: int
    bookings: list[BookingRecord]
    no_show_count: int
    no_shows: list[BookingRecord]
    points_balance: int
    points: list[PointsEntry]
    # The public id of each booking a ledger line names, by the booking's row id.
    points_bookings: dict[int, str]
    bans: list[Ban]
    companions: list[Companion]
    # The newest consents to privacy notices (:data:`RECENT_BOOKINGS` of them).
    consents: list[ConsentLine]


def customer_record(session: Session, tenant: Tenant, customer_id: int) -> CustomerRecord:
    """Customer ``customer_id`` of ``tenant`` with their bookings, no-shows, points ledger, bans, companions and consents; reads only.

    :raises NotFound: ``customer_not_found`` if ``tenant`` has no such customer.
    """
    with tenant_scope(tenant.id):
        customer = get_customer(session, customer_id)
        theirs = Booking.customer_id == customer.id
        newest = (Booking.starts_at.desc(), Booking.id.desc())
        bookings = booking_records(session, list(session.scalars(select(Booking).where(theirs).order_by(*newest).limit(RECENT_BOOKINGS))))
        no_shows = booking_records(session, list(session.scalars(select(Booking).where(theirs, _NO_SHOW).order_by(*newest).limit(RECENT_BOOKINGS))))
        counts = session.execute(select(func.count(Booking.id), func.count(Booking.id).filter(_NO_SHOW)).where(theirs)).one()
        balance = session.scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.customer_id == customer.id))
        points = list(session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer.id).order_by(PointsEntry.id.desc()).limit(LEDGER_LINES)))
        booked = {e.booking_id for e in points if e.booking_id}
        points_bookings = dict(session.execute(select(Booking.id, Booking.public_id).where(Booking.id.in_(booked))).all()) if booked else {}
        companions = list(session.scalars(select(Companion).where(Companion.customer_id == customer.id).order_by(Companion.id)))
        return CustomerRecord(
            customer=customer,
            bookings_count=counts[0],
            bookings=bookings,
            no_show_count=counts[1],
            no_shows=no_shows,
            points_balance=int(balance),
            points=points,
            points_bookings=points_bookings,
            bans=_bans_of(session, [customer])[customer.id],
            companions=companions,
            consents=consents_of_customer(session, customer.id, limit=RECENT_BOOKINGS),
        )


# -- what staff do -------------------------------------------------------------------------------


def adjust_points(session: Session, tenant: Tenant, customer_id: int, *, delta: int, reason: str, actor: Actor) -> PointsEntry:
    """Add ``delta`` points (or take them, below zero) with the reason staff give; the balance may go below zero, as a penalty's may."""
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 or abs(delta) > MAX_POINTS_DELTA:
        raise InvalidInput(
            _l("points must change by a non-zero whole number"),
            errors=[FieldProblem("/delta", _l("a non-zero whole number from -%(max)s to %(max)s", max=MAX_POINTS_DELTA), "invalid_delta")],
        )
    reason = checked_text(reason, "/reason", PointsEntry.__table__.c.reason.type.length)
    with tenant_scope(tenant.id), write_transaction(session):
        customer = get_customer(session, customer_id)
        entry = PointsEntry(customer_id=customer.id, delta=delta, reason=reason)
        session.add(entry)
        session.flush()
        payload = {"customer": customer.id, "entry": entry.id, "delta": delta, "reason": masked_mentions(session, customer, reason)}
        record_change(session, actor=str(actor), action="customer.points_adjusted", subject_type="customer", subject_id=customer.id, payload=payload)
    return entry


def impose_ban(
    session: Session,
    tenant: Tenant,
    customer_id: int,
    *,
    reason: str,
    now: datetime,
    until: datetime | None = None,
    days: int | None = None,
    actor: Actor,
) -> Ban:
    """Forbid the customer to book from ``now`` until ``until``, or for ``days`` days: one of the two."""
    ends_at = _ban_end(now, until, days)
    reason = checked_text(reason, "/reason", Ban.__table__.c.reason.type.length)
    with tenant_scope(tenant.id), write_transaction(session):
        customer = get_customer(session, customer_id)
        ban = Ban(subject_kind=BanSubject.customer, subject=str(customer.id), starts_at=now, ends_at=ends_at, reason=reason)
        session.add(ban)
        session.flush()
        payload = {"customer": customer.id, "ban": ban.id, "ends_at": ends_at, "reason": masked_mentions(session, customer, reason)}
        record_change(session, actor=str(actor), action="customer.banned", subject_type="customer", subject_id=customer.id, payload=payload)
    return ban


def _ban_end(now: datetime, until: datetime | None, days: int | None) -> datetime:
    if (until is None) == (days is None):
        raise InvalidInput(_l("the ban's end is not valid"), errors=[FieldProblem("", _l("give either until or days"), "until_or_days")])
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_BAN_DAYS:
            raise InvalidInput(
                _l("the ban length is not valid"), errors=[FieldProblem("/days", _l("1-%(max_ban_days)s days", max_ban_days=MAX_BAN_DAYS), "invalid_days")]
            )
        return now + timedelta(days=days)
    if not now < until <= now + timedelta(days=MAX_BAN_DAYS):
        raise InvalidInput(
            _l("the ban's end is not valid"),
            errors=[FieldProblem("/until", _l("a moment after now, at most %(max_ban_days)s days ahead", max_ban_days=MAX_BAN_DAYS), "invalid_until")],
        )
    return until


def lift_ban(session: Session, tenant: Tenant, customer_id: int, ban_id: int, *, reason: str, now: datetime, actor: Actor) -> Ban:
    """End one of the customer's bans now (``ends_at = now``); the reason is kept in the audit log.

    :raises NotFound: ``ban_not_found`` for a ban that is not one of the customer's.
    :raises Conflict: ``ban_not_in_force`` for a ban that has already ended.
    """
    reason = checked_text(reason, "/reason", Ban.__table__.c.reason.type.length)
    with tenant_scope(tenant.id), write_transaction(session):
        customer = get_customer(session, customer_id)
        if ban_id not in {ban.id for ban in _bans_of(session, [customer])[customer.id]}:
            raise NotFound(_l("customer %(customer_id)s has no ban %(ban_id)s", customer_id=customer.id, ban_id=ban_id), code="ban_not_found")
        # Read again under a lock: of two staff lifting it at once, the second finds it ended.
        ban = session.scalar(select(Ban).where(Ban.id == ban_id).with_for_update().execution_options(populate_existing=True))
        if ban.ends_at <= now:
            raise Conflict(_l("the ban ended at %(ends_at)s", ends_at=ban.ends_at.isoformat(timespec="minutes")), code="ban_not_in_force")
        ended = ban.ends_at
        ban.ends_at = now
        session.flush()
        payload = {"customer": customer.id, "ban": ban.id, "was_to_end_at": ended, "reason": masked_mentions(session, customer, reason)}
        record_change(session, actor=str(actor), action="customer.ban_lifted", subject_type="customer", subject_id=customer.id, payload=payload)
    return ban


def annotate_customer(session: Session, tenant: Tenant, customer_id: int, *, actor: Actor, **changes: Any) -> Customer:
    """Replace the customer's ``tags`` and/or ``note``; tags keep their order, each once, and an empty note is none.

    Neither the tags nor the note go into the audit log or the event (they may say anything about a person): only which changed.
    """
    values = {}
    problems: list[FieldProblem] = []
    for key, value in changes.items():
        if key == "tags":
            values["tags"], found = _checked_tags(value)
            problems += found
        elif key == "note":
            if value is not None and (not isinstance(value, str) or len(value) > MAX_NOTE_LENGTH):
                problems.append(FieldProblem("/note", _l("at most %(length)s characters", length=MAX_NOTE_LENGTH), "invalid_note"))
            values["note"] = value or None
        else:
            problems.append(FieldProblem(f"/{key}", _l("only tags and note can be changed"), "unknown_field"))
    if problems:
        raise InvalidInput(_l("the customer cannot be changed as given"), errors=problems)
    with tenant_scope(tenant.id), write_transaction(session):
        customer = get_customer(session, customer_id)
        changed = sorted(key for key, value in values.items() if getattr(customer, key) != value)
        for key in changed:
            setattr(customer, key, values[key])
        if changed:
            session.flush()
            payload = {"customer": customer.id, "changed": changed}
            record_change(session, actor=str(actor), action="customer.annotated", subject_type="customer", subject_id=customer.id, payload=payload)
    return customer


def _checked_tags(tags: Any) -> tuple[list[str], list[FieldProblem]]:
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        return [], [FieldProblem("/tags", _l("a list of at most %(max_tags)s tags", max_tags=MAX_TAGS), "invalid_tags")]
    problems = [
        FieldProblem(f"/tags/{index}", _l("1-%(length)s characters, without quotes or backslashes", length=MAX_TAG_LENGTH), "invalid_tag")
        for index, tag in enumerate(tags)
        if not isinstance(tag, str) or not tag.strip() or len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag)
    ]
    return ([] if problems else list(dict.fromkeys(tag.strip() for tag in tags))), problems
