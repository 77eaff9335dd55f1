"""Limits that several verticals set from their settings: minors per booking, people per account and day, groups.

Plugins reach these through ``yuyue.plugin_api``, so the exhibition and the
scenic-area verticals (and any other) count and refuse the same way; the
booking type's own policies are enforced by ``policies`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingRequest, BookingView
from yuyue.bookings.policies import age_on, lock_identities, too_many_minors
from yuyue.bookings.queries import active_bookings
from yuyue.errors import FieldProblem, Refused


def refuse_too_many_minors(request: BookingRequest, limit: int, adult_age: int, pointer: Callable[[int], str]) -> None:
    """Refuse (``too_many_minors``) a request naming more than ``limit`` people under ``adult_age`` on the slot's day.

    Someone whose birth date is unknown counts as an adult, as the host's own
    minors rule does. ``pointer(index)`` is where the form holds the ``index``-th
    person's birth date or ID number.
    """
    on = request.local_date
    minors = [index for index, person in enumerate(request.people) if person.birth_date is not None and age_on(person.birth_date, on) < adult_age]
    if len(minors) > limit:
        raise too_many_minors(limit, adult_age, on, [pointer(index) for index in minors])


def refuse_too_many_persons_a_day(
    session: Session,
    request: BookingRequest,
    limit: int,
    *,
    vertical: str,
    pointer: str,
    counts: Callable[[BookingView], bool] | None = None,
) -> None:
    """Refuse (``persons_limit_exceeded``) when the booker's active bookings of ``vertical`` that day and this one hold more than ``limit`` places.

    ``counts`` picks the bookings that count (all of them by default: a vertical
    leaves its group bookings out). Takes the booker's identity lock first, so
    two concurrent requests cannot both pass.
    """
    lock_identities(session, [f"customer:{request.customer_id}"])
    bookings = active_bookings(session, vertical=vertical, customer_id=request.customer_id, local_dates=[request.local_date], excluding=request.moves)
    booked = sum(booking.units for booking in bookings if counts is None or counts(booking))
    if booked + request.units > limit:
        raise Refused(
            _l("an account may book for at most %(limit)s people a day; %(booked)s already booked", limit=limit, booked=booked)
            if booked
            else _l("an account may book for at most %(limit)s people a day", limit=limit),
            code="persons_limit_exceeded",
            errors=[
                FieldProblem(
                    pointer,
                    _l("at most %(more)s more on %(local_date)s", more=max(limit - booked, 0), local_date=request.local_date),
                    "persons_limit_exceeded",
                )
            ],
        )


# The channels a slot's capacity is split into for visitors on their own and for groups (``capacity_by_channel``).
INDIVIDUAL_CHANNEL, GROUP_CHANNEL = "individual", "group"


def is_group_visit(answers: Mapping[str, Any]) -> bool:
    """Whether a form's answers book a group (``visitor_type`` ``group``) rather than individuals."""
    return answers.get("visitor_type") == GROUP_CHANNEL


def group_headcount(answers: Mapping[str, Any]) -> int | None:
    """The places a group takes, one per head (its form names only the leader); ``None`` for individuals."""
    size = answers.get("group_size")
    return size if is_group_visit(answers) and isinstance(size, int) else None


def group_problems(request: BookingRequest, visitor_type: str, size: Any, smallest: int, largest: int) -> list[FieldProblem]:
    """What stops a request of ``visitor_type`` (``individual`` or ``group``) of ``size`` people: its channel and, for a group, its size.

    A request on the individual or the group channel must be of that visitor
    type (``channel_mismatch`` at ``/channel``), so neither takes the other's
    places; any other channel (``default``, when a slot is not split) takes
    both. A group has from ``smallest`` to ``largest`` people
    (``group_too_small``, ``group_too_large`` at ``/answers/group_size``).
    """
    problems = []
    if request.channel in (INDIVIDUAL_CHANNEL, GROUP_CHANNEL) and request.channel != visitor_type:
        problems.append(
            FieldProblem(
                "/channel",
                _l("book a group visit on the group channel") if visitor_type == GROUP_CHANNEL else _l("book an individual visit on the individual channel"),
                "channel_mismatch",
            )
        )
    if visitor_type == GROUP_CHANNEL and isinstance(size, int):
        if size < smallest:
            problems.append(FieldProblem("/answers/group_size", _l("a group has at least %(smallest)s people", smallest=smallest), "group_too_small"))
        elif size > largest:
            problems.append(FieldProblem("/answers/group_size", _l("a group has at most %(largest)s people", largest=largest), "group_too_large"))
    return problems
