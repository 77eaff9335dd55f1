"""Ratings of a period: the average and number of reviews per booking type, per resource, and per local month.

A review is counted in the period its booking's slot falls in (as every other figure counts bookings),
whether staff hid its text or not: hiding is about abusive words, and must not remove a bad mark from the
figures (decisions §61). The database groups by booking type, resource and local date; months are summed
here from the (at most 366) dates, which stays the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, Feedback, FeedbackKind
from yuyue.catalog.models import BookingType, Resource
from yuyue.stats.period import Period

__all__ = ["RatingFigures", "ratings_by_booking_type", "ratings_by_month", "ratings_by_resource"]


@dataclass(frozen=True)
class RatingFigures:
    """The reviews of one booking type, resource or month: how many, their total and average (two decimals)."""

    key: str
    name: Any
    reviews: int
    total: int

    @property
    def average(self) -> float | None:
        return round(self.total / self.reviews, 2) if self.reviews else None


def _reviews_in(period: Period, *columns: Any) -> Select:
    query = (
        select(*columns, func.count(Feedback.id), func.sum(Feedback.rating))
        .select_from(Feedback)
        .join(Booking, Booking.id == Feedback.booking_id)
        .where(Feedback.kind == FeedbackKind.review, Booking.starts_at >= period.starts_at, Booking.starts_at < period.ends_at)
    )
    if period.booking_type is not None:
        query = query.where(Booking.booking_type_id == period.booking_type.id)
    return query


def _ordered(rows: list[RatingFigures]) -> list[RatingFigures]:
    return sorted(rows, key=lambda row: (-row.reviews, row.key))


def ratings_by_booking_type(session: Session, period: Period) -> list[RatingFigures]:
    """Each booking type reviewed in the period, most reviewed first."""
    types = {row.id: row for row in session.execute(select(BookingType.id, BookingType.slug, BookingType.name))}
    rows = session.execute(_reviews_in(period, Feedback.booking_type_id).group_by(Feedback.booking_type_id)).all()
    return _ordered([RatingFigures(types[type_id].slug, types[type_id].name, int(n), int(total or 0)) for type_id, n, total in rows])


def ratings_by_resource(session: Session, period: Period) -> list[RatingFigures]:
    """Each resource a review of the period names (a coach, a guide), most reviewed first."""
    resources = {row.id: row for row in session.execute(select(Resource.id, Resource.code, Resource.name))}
    query = _reviews_in(period, Feedback.resource_id).where(Feedback.resource_id.is_not(None)).group_by(Feedback.resource_id)
    return _ordered([RatingFigures(resources[rid].code, resources[rid].name, int(n), int(total or 0)) for rid, n, total in session.execute(query)])


def ratings_by_month(session: Session, period: Period) -> list[RatingFigures]:
    """The period's reviews by the local month of their slot (``2026-12``), in order; months without reviews are left out."""
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, n, total in session.execute(_reviews_in(period, Booking.local_date).group_by(Booking.local_date)):
        month = months[f"{day:%Y-%m}"]
        month[0] += int(n)
        month[1] += int(total or 0)
    return [RatingFigures(month, None, n, total) for month, (n, total) in sorted(months.items())]
