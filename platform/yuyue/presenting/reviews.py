"""Reviews and feedback as their author reads them, as staff read them in the inbox, and ratings as the public reads them.

Texts are given as stored; JSON escapes them and the pages' templates do too. The author sees their own text
even when staff hid it (it is theirs, and their data download holds it), with ``hidden`` saying so; the reason
and who hid it are the merchant's. Staff see the customer's phone masked unless their role sees it in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, Feedback
from yuyue.bookings.reviews import Rating, customer_feedback, public_ratings, reviews_of_bookings
from yuyue.catalog.models import BookingType, Resource
from yuyue.customers.models import Customer
from yuyue.customers.operations import mask_phone
from yuyue.presenting import local_time
from yuyue.presenting.language import localize
from yuyue.tenancy.models import Tenant

# What a customer's page in the merchant API lists of what they wrote, newest first.
REVIEWS_WRITTEN = 50

__all__ = [
    "BookingReviews",
    "FeedbackNames",
    "customer_feedback_json",
    "feedback_names",
    "public_rating_json",
    "rating_json",
    "reviews_written_json",
    "staff_feedback_json",
]


class FeedbackNames:
    """The public ids, slugs, codes and customers a list of items names, read in one query each."""

    def __init__(self, session: Session, items: Iterable[Feedback]) -> None:
        items = list(items)

        def read(model: Any, column: Any, ids: set[int | None]) -> dict[int, Any]:
            wanted = sorted(i for i in ids if i is not None)
            return dict(session.execute(select(model.id, column).where(model.id.in_(wanted))).all()) if wanted else {}

        self.bookings = read(Booking, Booking.public_id, {i.booking_id for i in items})
        self.booking_types = read(BookingType, BookingType.slug, {i.booking_type_id for i in items})
        wanted = sorted({i.resource_id for i in items if i.resource_id is not None})
        self.resources = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(wanted)))} if wanted else {}
        wanted = sorted({i.customer_id for i in items})
        self.customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(wanted)))} if wanted else {}


def feedback_names(session: Session, items: Iterable[Feedback]) -> FeedbackNames:
    return FeedbackNames(session, items)


def _resource(resource: Resource | None, locale: str) -> dict[str, Any] | None:
    return None if resource is None else {"code": resource.code, "kind": resource.kind, "name": localize(resource.name, locale)}


def customer_feedback_json(item: Feedback, names: FeedbackNames, zone: ZoneInfo, locale: str) -> dict[str, Any]:
    """A review or feedback as its author reads it, with the merchant's reply."""
    return {
        "id": item.id,
        "kind": item.kind.value,
        "booking": names.bookings.get(item.booking_id),
        "booking_type": names.booking_types.get(item.booking_type_id),
        "resource": _resource(names.resources.get(item.resource_id), locale),
        "rating": item.rating,
        "category": item.category,
        "comment": item.comment,
        "hidden": item.hidden,
        "created_at": local_time(item.created_at, zone),
        "updated_at": local_time(item.updated_at, zone),
        "reply": None if item.reply is None else {"text": item.reply, "at": local_time(item.replied_at, zone)},
        # A review may be changed until the merchant replies to it.
        "editable": item.booking_id is not None and item.replied_at is None,
    }


def staff_feedback_json(item: Feedback, names: FeedbackNames, zone: ZoneInfo, locale: str, *, full: bool) -> dict[str, Any]:
    """An item of the inbox: what its author sees, who the author is, and what staff did about it (who and when)."""
    customer = names.customers.get(item.customer_id)
    return {
        **customer_feedback_json(item, names, zone, locale),
        "customer": {"id": item.customer_id, "name": customer.name, "phone": customer.phone if full or customer.phone is None else mask_phone(customer.phone)},
        "reply": None if item.reply is None else {"text": item.reply, "at": local_time(item.replied_at, zone), "by": item.replied_by},
        "hidden_reason": item.hidden_reason,
        "hidden_at": local_time(item.hidden_at, zone),
        "hidden_by": item.hidden_by,
        "handled": item.handled,
        "handled_at": local_time(item.handled_at, zone),
        "handled_by": item.handled_by,
    }


class BookingReviews:
    """The reviews of some bookings and what they name, read once for a whole page of bookings."""

    def __init__(self, session: Session, bookings: Iterable[Booking]) -> None:
        self.reviews = reviews_of_bookings(session, bookings)
        self.names = feedback_names(session, self.reviews.values())

    def json(self, booking: Booking, zone: ZoneInfo, locale: str) -> dict[str, Any] | None:
        """The review of ``booking`` as its author reads it, or None."""
        review = self.reviews.get(booking.id)
        return None if review is None else customer_feedback_json(review, self.names, zone, locale)


def reviews_written_json(session: Session, tenant: Tenant, customer: Customer, zone: ZoneInfo, locale: str, *, full: bool) -> list[dict[str, Any]]:
    """The newest :data:`REVIEWS_WRITTEN` reviews and feedback a customer wrote, as the inbox shows them, for the customer's page."""
    items = customer_feedback(session, tenant, customer, limit=REVIEWS_WRITTEN)
    names = feedback_names(session, items)
    return [staff_feedback_json(item, names, zone, locale, full=full) for item in items]


def rating_json(rating: Rating | None) -> dict[str, Any] | None:
    return None if rating is None else {"average": rating.average, "count": rating.count}


def public_rating_json(session: Session, booking_type: BookingType, locale: str) -> dict[str, Any]:
    """The booking type's public rating and its resources' (its coaches'), as the catalog shows them."""
    overall, per_resource = public_ratings(session, booking_type)
    return {"rating": rating_json(overall), "resource_ratings": [{**_resource(r, locale), "rating": rating_json(rating)} for r, rating in per_resource]}
