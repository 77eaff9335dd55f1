"""Reviews of bookings and general feedback: what customers write, the merchant's inbox, what staff do about it, and ratings.

A review needs a booking of the customer's that is over (:func:`is_over`) and may name one resource that
served it (a coach, a driver, a guide: held by the booking or by its slot), which is why this sits with the
bookings. Each change is one transaction with its audit record and outbox event
(:func:`yuyue.events.operations.record_change`); the audit keeps ids, the rating and which texts changed,
never the texts themselves, which may say anything about a person.

Hiding a review hides its text from everyone but the merchant; its rating still counts everywhere (the
merchant's statistics and the public rating), so hiding cannot be used to drop bad marks (decisions §61).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, BookingStatus, Feedback, FeedbackKind, ResourceAllocation
from yuyue.bookings.placement import Actor, get_booking
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_TEXT
from yuyue.catalog.models import BookingType, Resource
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound
from yuyue.events.operations import record_change
from yuyue.scheduling.inventory import day_bounds
from yuyue.tenancy.models import Tenant

__all__ = [
    "CATEGORIES",
    "FEEDBACK_FILTER_NAMES",
    "MAX_COMMENT_LENGTH",
    "MAX_HIDE_REASON_LENGTH",
    "MAX_REPLY_LENGTH",
    "PUBLIC_MIN_REVIEWS",
    "FeedbackFilters",
    "FeedbackPage",
    "Rating",
    "customer_feedback",
    "edit_review",
    "feedback_filters_from_query",
    "get_feedback",
    "hide_feedback",
    "is_over",
    "mark_handled",
    "public_ratings",
    "reply_to_feedback",
    "reviews_of_bookings",
    "search_feedback",
    "send_feedback",
    "serving_resources",
    "unhide_feedback",
    "write_review",
]

MAX_COMMENT_LENGTH = Feedback.__table__.c.comment.type.length
MAX_REPLY_LENGTH = Feedback.__table__.c.reply.type.length
MAX_HIDE_REASON_LENGTH = Feedback.__table__.c.hidden_reason.type.length
# What general feedback may be about; a small fixed list, so the inbox can filter and the pages can translate it.
CATEGORIES = ("suggestion", "complaint", "praise", "question", "other")
# Fewer reviews than this and the public sees no rating: one or two marks say more about those customers than the service.
PUBLIC_MIN_REVIEWS = 3
# The query parameters of the merchant's inbox.
FEEDBACK_FILTER_NAMES = ("kind", "rating", "handled", "hidden", "booking_type", "resource", "from", "to", "q")
# The inbox's filters that take one of a few values: the values, and the problem of any other.
_BOOLEANS = {"true": True, "false": False}
_CHOICES: dict[str, tuple[dict[str, Any], Any, str]] = {
    "kind": ({k.value: k for k in FeedbackKind}, _l("one of %(names)s", names="review, feedback"), "invalid_kind"),
    "rating": ({str(n): n for n in range(1, 6)}, _l("a whole number from 1 to 5"), "invalid_rating"),
    "handled": (_BOOLEANS, _l("true or false"), "invalid_flag"),
    "hidden": (_BOOLEANS, _l("true or false"), "invalid_flag"),
}
# The days a date filter may name: any day a review is written on, and far from the ends of Python's calendar, which a
# local day's bounds in UTC would overflow.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def is_over(booking: Booking, now: datetime) -> bool:
    """Whether the customer's visit is over: completed, or checked in and its slot has ended (cancelled, expired and no-shows never are)."""
    return booking.status is BookingStatus.completed or (booking.status is BookingStatus.checked_in and booking.ends_at <= now)


def serving_resources(session: Session, booking: Booking) -> list[Resource]:
    """The resources held for ``booking``, by the booking itself or by its slot (a class's coach), by code."""
    held = select(ResourceAllocation.resource_id).where(
        or_(ResourceAllocation.booking_id == booking.id, ResourceAllocation.inventory_id == booking.inventory_id)
    )
    return list(session.scalars(select(Resource).where(Resource.id.in_(held)).order_by(Resource.code)))


def _text_problem(value: Any, pointer: str, length: int, *, required: bool) -> FieldProblem | None:
    """What is wrong with a text field, if anything; only whether it is blank is judged on the trimmed text."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > length or (required and not value.strip()):
        return FieldProblem(pointer, _l("%(low)s-%(length)s characters", low=1 if required else 0, length=length), "invalid_text")
    return None


def _stored(text: str | None) -> str | None:
    """Text as stored: exactly as given, or None when blank."""
    return text if text and text.strip() else None


def _refuse(message: Any, *problems: FieldProblem | None) -> None:
    """Raise every problem found at once, if any."""
    found = [problem for problem in problems if problem is not None]
    if found:
        raise InvalidInput(message, errors=found)


def _check_review(rating: Any, comment: Any) -> None:
    """Refuse a rating that is not 1-5 and a comment out of bounds, both at once."""
    bad_rating = not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5
    _refuse(
        _l("the review is not valid"),
        FieldProblem("/rating", _l("a whole number from 1 to 5"), "invalid_rating") if bad_rating else None,
        _text_problem(comment, "/comment", MAX_COMMENT_LENGTH, required=False),
    )


# -- what customers write ------------------------------------------------------------------------


def _customers_booking(session: Session, customer: Customer, public_id: str) -> Booking:
    """The customer's booking; another's is as absent as a missing one."""
    try:
        booking = get_booking(session, public_id)
    except NotFound:
        booking = None
    if booking is None or booking.customer_id != customer.id:
        raise NotFound(_l("no booking %(public_id)r", public_id=public_id), code="booking_not_found")
    return booking


def _serving(session: Session, booking: Booking, code: Any) -> Resource | None:
    if code is None:
        return None
    resource = next((r for r in serving_resources(session, booking) if r.code == code), None)
    if resource is None:
        raise InvalidInput(
            _l("the resource did not serve this booking"),
            errors=[FieldProblem("/resource", _l("the code of a resource that served this booking, or null"), "resource_not_serving")],
        )
    return resource


def write_review(
    session: Session, tenant: Tenant, customer: Customer, public_id: str, *, rating: Any, comment: Any = None, resource: Any = None, now: datetime, actor: Actor
) -> Feedback:
    """The customer's review of their booking ``public_id``: a rating 1-5, an optional comment, optionally the resource that served them.

    :raises NotFound: ``booking_not_found`` for a booking that is not the customer's.
    :raises Conflict: ``booking_not_over`` before the visit is over; ``review_exists`` for a second review of it.
    :raises InvalidInput: at ``/rating``, ``/comment`` or ``/resource``.
    """
    _check_review(rating, comment)
    with tenant_scope(tenant.id), write_transaction(session):
        booking = _customers_booking(session, customer, public_id)
        if not is_over(booking, now):
            raise Conflict(_l("a booking can be reviewed once it is over"), code="booking_not_over")
        # Lock the customer's row: of two reviews of one booking sent at once, the second finds the first.
        session.scalar(select(Customer.id).where(Customer.id == customer.id).with_for_update())
        if session.scalar(select(Feedback.id).where(Feedback.booking_id == booking.id)) is not None:
            raise Conflict(_l("this booking has a review already; change it instead"), code="review_exists")
        served = _serving(session, booking, resource)
        review = Feedback(
            kind=FeedbackKind.review,
            customer_id=customer.id,
            booking_id=booking.id,
            booking_type_id=booking.booking_type_id,
            resource_id=served.id if served else None,
            rating=rating,
            comment=_stored(comment),
            created_at=now,
            updated_at=now,
        )
        session.add(review)
        session.flush()
        _announce(session, actor, "review.created", review, booking=booking.public_id, resource=served.code if served else None)
    return review


def edit_review(
    session: Session, tenant: Tenant, customer: Customer, public_id: str, *, rating: Any, comment: Any = None, resource: Any = None, now: datetime, actor: Actor
) -> Feedback:
    """Replace the customer's review of ``public_id`` (rating, comment, resource), as long as the merchant has not replied to it.

    :raises NotFound: ``booking_not_found``, or ``review_not_found`` when the booking has no review yet.
    :raises Conflict: ``review_replied`` once the merchant replied: the reply answers what was written.
    """
    _check_review(rating, comment)
    with tenant_scope(tenant.id), write_transaction(session):
        booking = _customers_booking(session, customer, public_id)
        review = session.scalar(select(Feedback).where(Feedback.booking_id == booking.id).with_for_update().execution_options(populate_existing=True))
        if review is None:
            raise NotFound(_l("booking %(public_id)s has no review", public_id=public_id), code="review_not_found")
        if review.replied_at is not None:
            raise Conflict(_l("the merchant has replied to this review: it can no longer be changed"), code="review_replied")
        served = _serving(session, booking, resource)
        review.rating, review.comment, review.resource_id, review.updated_at = rating, _stored(comment), served.id if served else None, now
        session.flush()
        _announce(session, actor, "review.changed", review, booking=booking.public_id, resource=served.code if served else None)
    return review


def send_feedback(session: Session, tenant: Tenant, customer: Customer, *, comment: Any, category: Any = None, now: datetime, actor: Actor) -> Feedback:
    """General feedback from the customer: a comment, and optionally one of :data:`CATEGORIES`."""
    _refuse(
        _l("the feedback is not valid"),
        _text_problem(comment, "/comment", MAX_COMMENT_LENGTH, required=True),
        None
        if category is None or category in CATEGORIES
        else FieldProblem("/category", _l("one of %(names)s", names=", ".join(CATEGORIES)), "invalid_category"),
    )
    with tenant_scope(tenant.id), write_transaction(session):
        feedback = Feedback(kind=FeedbackKind.feedback, customer_id=customer.id, comment=comment, category=category, created_at=now, updated_at=now)
        session.add(feedback)
        session.flush()
        _announce(session, actor, "feedback.created", feedback, category=feedback.category)
    return feedback


def customer_feedback(session: Session, tenant: Tenant, customer: Customer, *, before_id: int | None = None, limit: int = DEFAULT_PAGE_SIZE) -> list[Feedback]:
    """Up to ``limit`` of the customer's reviews and feedback, newest first; ``before_id`` continues after a previous page."""
    with tenant_scope(tenant.id):
        query = select(Feedback).where(Feedback.customer_id == customer.id)
        if before_id is not None:
            query = query.where(Feedback.id < before_id)
        return list(session.scalars(query.order_by(Feedback.id.desc()).limit(limit)))


def reviews_of_bookings(session: Session, bookings: Iterable[Booking]) -> dict[int, Feedback]:
    """The review of each booking that has one, by the booking's row id, in one query."""
    ids = [b.id for b in bookings]
    if not ids:
        return {}
    return {review.booking_id: review for review in session.scalars(select(Feedback).where(Feedback.booking_id.in_(ids)))}


# -- the merchant's inbox ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFilters:
    """What staff look for in the inbox; dates are the local days the item was written (inclusive)."""

    kind: FeedbackKind | None = None
    rating: int | None = None
    handled: bool | None = None
    hidden: bool | None = None
    booking_type: str | None = None
    resource: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None


def feedback_filters_from_query(args: Mapping[str, str], allowed: Collection[str] = FEEDBACK_FILTER_NAMES) -> FeedbackFilters:
    """The inbox's filters from a query string; every problem at once, each at ``/<parameter>``.

    :raises InvalidInput: for an unknown parameter, a kind, rating, flag or date that is not one, or text over :data:`MAX_TEXT` characters.
    """
    problems = [
        FieldProblem(f"/{name}", _l("unknown query parameter; use %(names)s", names=", ".join(allowed)), "unknown_parameter")
        for name in args
        if name not in allowed
    ]
    values: dict[str, Any] = {}
    for name, (choices, message, code) in _CHOICES.items():
        raw = args.get(name)
        if raw and raw not in choices:
            problems.append(FieldProblem(f"/{name}", message, code))
        elif raw:
            values[name] = choices[raw]
    for name in ("from", "to"):
        raw = args.get(name)
        values[name] = _local_date(raw) if raw else None
        if raw and values[name] is None:
            problems.append(FieldProblem(f"/{name}", _l("a date as YYYY-MM-DD from %(first)s to %(last)s", first=FIRST_DAY, last=LAST_DAY), "invalid_date"))
    for name in ("booking_type", "resource", "q"):
        if len(args.get(name) or "") > MAX_TEXT:
            problems.append(FieldProblem(f"/{name}", _l("at most %(max_text)s characters", max_text=MAX_TEXT), "too_long"))
    if values.get("from") and values.get("to") and values["to"] < values["from"]:
        problems.append(FieldProblem("/to", _l("must not be before 'from'"), "invalid_range"))
    if problems:
        raise InvalidInput(_l("the query parameters are not valid"), errors=problems)
    return FeedbackFilters(
        kind=values.get("kind"),
        rating=values.get("rating"),
        handled=values.get("handled"),
        hidden=values.get("hidden"),
        booking_type=args.get("booking_type") or None,
        resource=args.get("resource") or None,
        date_from=values.get("from"),
        date_to=values.get("to"),
        text=(args.get("q") or "").strip() or None,
    )


def _local_date(raw: str) -> date | None:
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


@dataclass(frozen=True)
class FeedbackPage:
    items: list[Feedback]
    # Whether older items follow the last one.
    more: bool


def _matching(filters: FeedbackFilters, zone: ZoneInfo) -> Select:
    statement = select(Feedback)
    for column, value in (
        (Feedback.kind, filters.kind),
        (Feedback.rating, filters.rating),
        (Feedback.handled, filters.handled),
        (Feedback.hidden, filters.hidden),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filters.booking_type:
        statement = statement.where(Feedback.booking_type_id.in_(select(BookingType.id).where(BookingType.slug == filters.booking_type)))
    if filters.resource:
        statement = statement.where(Feedback.resource_id.in_(select(Resource.id).where(Resource.code == filters.resource)))
    if filters.date_from:
        statement = statement.where(Feedback.created_at >= day_bounds(filters.date_from, zone)[0])
    if filters.date_to:
        statement = statement.where(Feedback.created_at < day_bounds(filters.date_to, zone)[1])
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(Feedback.comment.ilike(pattern, escape="\\"), Feedback.reply.ilike(pattern, escape="\\"), Feedback.hidden_reason.ilike(pattern, escape="\\"))
        )
    return statement


def search_feedback(
    session: Session, tenant: Tenant, filters: FeedbackFilters, *, before_id: int | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> FeedbackPage:
    """One page of the inbox, newest first, cut by id (never by offset) before ``before_id``; dates are the tenant's local days."""
    statement = _matching(filters, ZoneInfo(tenant.time_zone))
    if before_id is not None:
        statement = statement.where(Feedback.id < before_id)
    with tenant_scope(tenant.id):
        items = list(session.scalars(statement.order_by(Feedback.id.desc()).limit(limit + 1)))
    return FeedbackPage(items[:limit], len(items) > limit)


def get_feedback(session: Session, tenant: Tenant, feedback_id: int) -> Feedback:
    """:raises NotFound: ``feedback_not_found`` if ``tenant`` has no such item."""
    with tenant_scope(tenant.id):
        return _feedback(session, feedback_id)


def _feedback(session: Session, feedback_id: int, *, for_update: bool = False) -> Feedback:
    """Item ``feedback_id`` of the tenant in scope; ``for_update`` locks its row and reads it afresh."""
    query = select(Feedback).where(Feedback.id == feedback_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    item = session.scalar(query)
    if item is None:
        raise NotFound(_l("no feedback %(feedback_id)s", feedback_id=feedback_id), code="feedback_not_found")
    return item


def _announce(session: Session, actor: Actor, action: str, item: Feedback, **extra: Any) -> None:
    """Audit and announce a change of ``item``: ids, kind, rating and flags; never its texts (the reason of hiding aside, as bans keep theirs)."""
    payload = {"feedback": item.id, "kind": item.kind, "customer": item.customer_id, "rating": item.rating, **extra}
    record_change(session, actor=str(actor), action=action, subject_type="feedback", subject_id=item.id, payload=payload)


def reply_to_feedback(session: Session, tenant: Tenant, feedback_id: int, *, reply: Any, now: datetime, actor: Actor) -> Feedback:
    """The merchant's reply (replacing an earlier one), shown to the customer with their review or feedback."""
    _refuse(_l("the reply is not valid"), _text_problem(reply, "/reply", MAX_REPLY_LENGTH, required=True))
    with tenant_scope(tenant.id), write_transaction(session):
        item = _feedback(session, feedback_id, for_update=True)
        item.reply, item.replied_at, item.replied_by = reply, now, str(actor)
        session.flush()
        _announce(session, actor, f"{item.kind.value}.replied", item)
    return item


def hide_feedback(session: Session, tenant: Tenant, feedback_id: int, *, reason: Any, now: datetime, actor: Actor) -> Feedback:
    """Hide an abusive item's text from customers, keeping why; hiding a hidden one again replaces the reason.

    The reason is about the text, not the customer, so the audit keeps it as it keeps a ban's.
    """
    _refuse(_l("the reason is not valid"), _text_problem(reason, "/reason", MAX_HIDE_REASON_LENGTH, required=True))
    with tenant_scope(tenant.id), write_transaction(session):
        item = _feedback(session, feedback_id, for_update=True)
        item.hidden, item.hidden_reason, item.hidden_at, item.hidden_by = True, reason, now, str(actor)
        session.flush()
        _announce(session, actor, "feedback.hidden", item, reason=reason)
    return item


def unhide_feedback(session: Session, tenant: Tenant, feedback_id: int, *, now: datetime, actor: Actor) -> Feedback:
    """Show a hidden item's text again; the reason it was hidden goes (the audit log keeps it).

    :raises Conflict: ``feedback_not_hidden`` for an item that is shown.
    """
    with tenant_scope(tenant.id), write_transaction(session):
        item = _feedback(session, feedback_id, for_update=True)
        if not item.hidden:
            raise Conflict(_l("this item is not hidden"), code="feedback_not_hidden")
        item.hidden, item.hidden_reason, item.hidden_at, item.hidden_by = False, None, now, str(actor)
        session.flush()
        _announce(session, actor, "feedback.unhidden", item)
    return item


def mark_handled(session: Session, tenant: Tenant, feedback_id: int, *, handled: bool, now: datetime, actor: Actor) -> Feedback:
    """Mark an item handled (or not); marking it as it already is changes nothing and announces nothing."""
    if not isinstance(handled, bool):
        raise InvalidInput(_l("handled is not valid"), errors=[FieldProblem("/handled", _l("true or false"), "invalid_flag")])
    with tenant_scope(tenant.id), write_transaction(session):
        item = _feedback(session, feedback_id, for_update=True)
        if item.handled != handled:
            item.handled, item.handled_at, item.handled_by = handled, now, str(actor)
            session.flush()
            _announce(session, actor, "feedback.handled" if handled else "feedback.unhandled", item)
    return item


# -- ratings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """The average of some ratings (two decimals) and how many there are."""

    average: float
    count: int


def _rating_of(total: Any, count: Any) -> Rating:
    return Rating(round(float(total) / int(count), 2), int(count))


def public_ratings(session: Session, booking_type: BookingType) -> tuple[Rating | None, list[tuple[Resource, Rating]]]:
    """The booking type's rating and that of each resource reviewed for it, each only with :data:`PUBLIC_MIN_REVIEWS` reviews or more.

    A resource's rating is of the reviews of this booking type that name it. Hidden reviews count (see the module's docstring).
    """
    reviews = select(func.sum(Feedback.rating), func.count(Feedback.id)).where(
        Feedback.kind == FeedbackKind.review, Feedback.booking_type_id == booking_type.id
    )
    total, count = session.execute(reviews).one()
    overall = _rating_of(total, count) if count >= PUBLIC_MIN_REVIEWS else None
    per_resource = session.execute(
        select(Resource, func.sum(Feedback.rating), func.count(Feedback.id))
        .join(Feedback, Feedback.resource_id == Resource.id)
        .where(Feedback.kind == FeedbackKind.review, Feedback.booking_type_id == booking_type.id)
        .group_by(Resource.id)
        .having(func.count(Feedback.id) >= PUBLIC_MIN_REVIEWS)
        .order_by(Resource.code)
    ).all()
    return overall, [(resource, _rating_of(total, count)) for resource, total, count in per_resource]
