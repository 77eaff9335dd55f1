"""What the event vertical's settings change: attendees per booking, a required email, terms to accept.

A booking takes as many places as its ``attendees``. Problems of the form,
reported together (422 ``validation_failed``), each with a stable code:

- ``too_many_attendees`` (``/answers/attendees``): more than ``max_attendees_per_booking``.
- ``email_required`` (``/answers/email``): ``require_email`` is on and no email is given.
- ``consent_required`` (``/answers/consent``): the tenant set event ``terms`` and
  the booker did not accept them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yuyue.plugin_api import BookingRequest, BookingTypeView, FieldProblem, hookimpl

VERTICAL = "activity"


@hookimpl
def booking_units(booking_type: BookingTypeView, request: BookingRequest) -> int | None:
    """The ``attendees`` answered; a form without that field leaves the count to the party size or tickets sent.

    A party size or tickets sent as well must agree with it: the host refuses them otherwise (``party_size_mismatch``).
    """
    if booking_type.vertical != VERTICAL:
        return None
    return request.answers.get("attendees")


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any]) -> list[FieldProblem] | None:
    if booking_type.vertical != VERTICAL:
        return None
    problems = []
    most = settings["max_attendees_per_booking"]
    if request.units > most:
        problems.append(FieldProblem("/answers/attendees", f"at most {most} attendees per booking", "too_many_attendees"))
    if settings["require_email"] and not (request.answers.get("email") or "").strip():
        problems.append(FieldProblem("/answers/email", "an email address is required for this event", "email_required"))
    if (settings.get("terms") or "").strip() and request.answers.get("consent") is not True:
        problems.append(FieldProblem("/answers/consent", "read and accept the event terms to sign up", "consent_required"))
    return problems
