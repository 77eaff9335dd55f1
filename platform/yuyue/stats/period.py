"""The period statistics cover: local days of the tenant, bounded, and an optional booking type, read from a query string.

One parser for the merchant API and the admin page, so both refuse the same input with the same problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.catalog.models import BookingType
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.scheduling.inventory import day_bounds

__all__ = ["DEFAULT_DAYS", "EARLIEST", "MAX_DAYS", "MAX_DAYS_AHEAD", "PERIOD_PARAMETERS", "Period", "period_from_query"]

DEFAULT_DAYS = 30
# A year and a day: a leap year fits, and generating its slots stays cheap.
MAX_DAYS = 366
MAX_DAYS_AHEAD = 366
EARLIEST = date(2000, 1, 1)
PERIOD_PARAMETERS = ("from", "to", "booking_type")


@dataclass(frozen=True)
class Period:
    """Local days ``first`` … ``last`` (inclusive) in ``zone``, of every booking type or of one."""

    first: date
    last: date
    zone: ZoneInfo
    booking_type: BookingType | None = None

    @property
    def starts_at(self) -> datetime:
        """The UTC moment the first day starts."""
        return day_bounds(self.first, self.zone)[0]

    @property
    def ends_at(self) -> datetime:
        """The UTC moment after the last day ends."""
        return day_bounds(self.last, self.zone)[1]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _date(args: Mapping[str, str], name: str, problems: list[FieldProblem]) -> date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        problems.append(FieldProblem(f"/{name}", _l("a date as YYYY-MM-DD"), "invalid_date"))
        return None


def period_from_query(session: Session, args: Mapping[str, str], zone: ZoneInfo, today: date, *, allowed: tuple[str, ...] = PERIOD_PARAMETERS) -> Period:
    """The period a query string names; by default the last :data:`DEFAULT_DAYS` days up to ``today``.

    ``from`` and ``to`` are local dates (inclusive), at most :data:`MAX_DAYS` days apart, not before
    :data:`EARLIEST` nor more than :data:`MAX_DAYS_AHEAD` days after today; ``booking_type`` is a slug
    of the tenant in scope. Needs the tenant's scope (``yuyue.db.tenant_scope``).

    :raises InvalidInput: every problem at once, each at ``/<parameter>``.
    """
    problems = [
        FieldProblem(f"/{name}", _l("unknown query parameter; use %(names)s", names=", ".join(allowed)), "unknown_parameter")
        for name in args
        if name not in allowed
    ]
    first, last = _date(args, "from", problems), _date(args, "to", problems)
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    for name, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST <= day <= latest:
            problems.append(
                FieldProblem(f"/{name}", _l("a date from %(earliest)s to %(latest)s", earliest=EARLIEST.isoformat(), latest=latest.isoformat()), "out_of_range")
            )
    if not problems:  # defaults only from valid dates: a date out of range plus 29 days may not exist
        if last is None:
            last = today if first is None else min(first + timedelta(days=DEFAULT_DAYS - 1), latest)
        if first is None:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            problems.append(FieldProblem("/to", _l("on or after from"), "before_from"))
        elif (last - first).days + 1 > MAX_DAYS:
            problems.append(FieldProblem("/to", _l("at most %(max_days)s days after from, counting both", max_days=MAX_DAYS), "period_too_long"))
    booking_type = None
    slug = args.get("booking_type")
    if slug:
        booking_type = session.scalar(select(BookingType).where(BookingType.slug == slug)) if len(slug) <= 60 else None
        if booking_type is None:
            problems.append(FieldProblem("/booking_type", _l("no booking type of this merchant has this slug"), "unknown_booking_type"))
    if problems:
        raise InvalidInput(_l("the query parameters are not valid"), errors=problems)
    assert first is not None and last is not None
    return Period(first, last, zone, booking_type)
