"""What the scenic vertical's settings change: people per account and day, minors per booking, groups, guides.

A visit is an individual one (``visitor_type`` ``individual``: the visitor and
up to four companions, each named with an ID number) or a group's
(``group``: the leader's name, mobile and, if given, ID number on the form,
``group_size`` people in all, the others on an optional name list uploaded
later). A group takes ``group_size`` places (``booking_units``), on the slot's
``group`` channel when the slot is split by ``capacity_by_channel``.

Refusals, each with a stable code:

- ``too_many_minors`` (``Refused``, a pointer at each minor's ID number): an
  individual booking names more than ``max_minors_per_booking`` people under
  the adult age (the booking type's ``minors.adult_age``, else 18) on the day
  of the visit.
- ``persons_limit_exceeded`` (``Refused``, pointer ``/answers/companions``):
  the account's individual scenic-area bookings on that day would admit more
  than ``max_persons_per_account_per_day`` people (groups are limited by their
  size instead).

Problems of the request, reported together (422 ``validation_failed``):

- ``channel_mismatch`` (``/channel``): a group on the ``individual`` channel
  or an individual visit on the ``group`` channel.
- ``group_too_small`` / ``group_too_large`` (``/answers/group_size``): fewer
  than ``group_min_size`` or more than ``group_max_size`` people.
- ``guide_licence_required`` (``/answers/guide_licence``):
  ``group_requires_guide_licence`` is on and the group leader's guide licence
  number is missing.

A booking type whose own policies set ``max_persons_per_account_per_day`` or
``minors.max_minors_per_booking`` keeps that rule, enforced by the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import (
    GROUP_CHANNEL,
    INDIVIDUAL_CHANNEL,
    BookingRequest,
    BookingTypeView,
    BookingView,
    FieldProblem,
    group_headcount,
    group_problems,
    hookimpl,
    is_group_visit,
    refuse_too_many_minors,
    refuse_too_many_persons_a_day,
)
from yuyue.plugin_api import lazy_gettext as _l

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "scenic"
ADULT_AGE = 18


@hookimpl
def booking_units(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any]) -> int | None:
    """A group takes a place per head: its form names only the leader."""
    return group_headcount(request.answers) if booking_type.vertical == VERTICAL else None


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> list[FieldProblem] | None:
    if booking_type.vertical != VERTICAL:
        return None
    is_group = is_group_visit(request.answers)
    visitor_type = GROUP_CHANNEL if is_group else INDIVIDUAL_CHANNEL
    problems = group_problems(request, visitor_type, request.answers.get("group_size"), settings["group_min_size"], settings["group_max_size"])
    if is_group and settings["group_requires_guide_licence"] and not (request.answers.get("guide_licence") or "").strip():
        problems.append(
            FieldProblem(
                "/answers/guide_licence", _l("a group must be led by a licensed guide: give the leader's guide licence number"), "guide_licence_required"
            )
        )
    if problems or is_group:
        return problems
    minors = booking_type.policies.get("minors") or {}
    if "max_minors_per_booking" not in minors:
        refuse_too_many_minors(request, settings["max_minors_per_booking"], minors.get("adult_age", ADULT_AGE), _id_card_pointer)
    if "max_persons_per_account_per_day" not in booking_type.policies:
        refuse_too_many_persons_a_day(
            session, request, settings["max_persons_per_account_per_day"], vertical=VERTICAL, pointer="/answers/companions", counts=_is_individual
        )
    return None


def _is_individual(booking: BookingView) -> bool:
    return not is_group_visit(booking.answers)


def _id_card_pointer(index: int) -> str:
    """The visitor is the form's first person, companions follow in order."""
    return "/answers/id_card" if index == 0 else f"/answers/companions/{index - 1}/id_card"
