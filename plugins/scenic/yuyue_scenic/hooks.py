"""What the scenic vertical's settings change: people per account and day, minors per booking, group sizes, guides.

Refusals, each with a stable code:

- ``too_many_minors`` (``Refused``, a pointer at each minor's ID number): more
  than ``max_minors_per_booking`` people under the adult age (the booking
  type's ``minors.adult_age``, else 18) on the day of the visit.
- ``persons_limit_exceeded`` (``Refused``, pointer ``/answers/companions``):
  the account's scenic-area bookings on that day would admit more than
  ``max_persons_per_account_per_day`` people.

Problems of the form for a group (``visitor_type`` ``group``), reported
together (422 ``validation_failed``):

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

from yuyue.plugin_api import BookingRequest, BookingTypeView, FieldProblem, hookimpl, refuse_too_many_minors, refuse_too_many_persons_a_day

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "scenic"
GROUP = "group"
ADULT_AGE = 18


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> list[FieldProblem] | None:
    if booking_type.vertical != VERTICAL:
        return None
    if request.answers.get("visitor_type") == GROUP:
        problems = _group_problems(request.answers, settings)
        if problems:
            return problems
    minors = booking_type.policies.get("minors") or {}
    if "max_minors_per_booking" not in minors:
        refuse_too_many_minors(request, settings["max_minors_per_booking"], minors.get("adult_age", ADULT_AGE), _id_card_pointer)
    if "max_persons_per_account_per_day" not in booking_type.policies:
        refuse_too_many_persons_a_day(session, request, settings["max_persons_per_account_per_day"], vertical=VERTICAL, pointer="/answers/companions")
    return None


def _group_problems(answers: Mapping[str, Any], settings: Mapping[str, Any]) -> list[FieldProblem]:
    problems = []
    size, smallest, largest = answers.get("group_size", 0), settings["group_min_size"], settings["group_max_size"]
    if size < smallest:
        problems.append(FieldProblem("/answers/group_size", f"a group has at least {smallest} people", "group_too_small"))
    elif size > largest:
        problems.append(FieldProblem("/answers/group_size", f"a group has at most {largest} people", "group_too_large"))
    if settings["group_requires_guide_licence"] and not (answers.get("guide_licence") or "").strip():
        problems.append(
            FieldProblem("/answers/guide_licence", "a group must be led by a licensed guide: give the leader's guide licence number", "guide_licence_required")
        )
    return problems


def _id_card_pointer(index: int) -> str:
    """The visitor is the form's first person, companions follow in order."""
    return "/answers/id_card" if index == 0 else f"/answers/companions/{index - 1}/id_card"
