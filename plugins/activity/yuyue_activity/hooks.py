"""What the event vertical's settings change: attendees per booking, a required email, terms to accept, one sign-up per person, a minimum to go ahead.

A booking takes as many places as its ``attendees``. Problems of the form,
reported together (422 ``validation_failed``), each with a stable code:

- ``too_many_attendees`` (``/answers/attendees``): more than ``max_attendees_per_booking``.
- ``email_required`` (``/answers/email``): ``require_email`` is on and no email is given.
- ``consent_required`` (``/answers/consent``): the tenant set event ``terms`` and
  the booker did not accept them.

Refusals (409), each with a pointer at what repeats:

- ``already_signed_up`` (``/phone``, or the answer holding the phone or ID
  number): a session takes one sign-up per mobile number
  (``one_signup_per_phone``) and one per ID number (``one_signup_per_id_number``),
  both on by default. A phone counts whether it booked or is named on a
  booking; an ID number counts when a booking names it. The identities are
  locked first, so two concurrent sign-ups of one person cannot both pass.

``min_participants`` (0: none) and ``decision_hours_before`` answer
``minimum_participants``: the worker calls off a session still below the
minimum that many hours before it starts, cancelling and refunding its
bookings, and confirms the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import (
    BookingRequest,
    BookingTypeView,
    FieldProblem,
    MinimumParticipants,
    Refused,
    active_bookings,
    hookimpl,
    json_pointer,
    lock_identities,
)
from yuyue.plugin_api import lazy_gettext as _l

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> list[FieldProblem] | None:
    if booking_type.vertical != VERTICAL:
        return None
    problems = []
    most = settings["max_attendees_per_booking"]
    if request.units > most:
        problems.append(FieldProblem("/answers/attendees", _l("at most %(most)s attendees per booking", most=most), "too_many_attendees"))
    if settings["require_email"] and not (request.answers.get("email") or "").strip():
        problems.append(FieldProblem("/answers/email", _l("an email address is required for this event"), "email_required"))
    if (settings.get("terms") or "").strip() and request.answers.get("consent") is not True:
        problems.append(FieldProblem("/answers/consent", _l("read and accept the event terms to sign up"), "consent_required"))
    if not problems:
        _refuse_a_second_sign_up(booking_type, request, settings, session)
    return problems


@hookimpl
def minimum_participants(booking_type: BookingTypeView, settings: Mapping[str, Any]) -> MinimumParticipants | None:
    if booking_type.vertical != VERTICAL or not settings["min_participants"]:
        return None
    return MinimumParticipants(settings["min_participants"], settings["decision_hours_before"])


def _refuse_a_second_sign_up(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> None:
    """Refuse ``already_signed_up`` when a phone or ID number of ``request`` is on an active booking of the same session."""
    phones = _unique([request.phone, *(person.phone for person in request.people)]) if settings["one_signup_per_phone"] else []
    id_numbers = _unique(person.id_number for person in request.people) if settings["one_signup_per_id_number"] else []
    if not phones and not id_numbers:
        return
    lock_identities(session, [f"phone:{phone}" for phone in phones] + [f"id_number:{number}" for number in id_numbers])
    session_of = {"booking_type_id": booking_type.id, "starts_at": request.starts_at, "excluding": request.moves}
    for phone in phones:
        if active_bookings(session, phone=phone, **session_of):
            pointer = "/phone" if phone == request.phone else _answer_holding(request.answers, phone)
            _refuse(_l("%(phone)s is already signed up for this session", phone=phone), pointer, _l("this mobile number is already signed up for this session"))
    for number in id_numbers:
        if active_bookings(session, id_number=number, **session_of):
            _refuse(
                _l("this ID number is already signed up for this session"), _answer_holding(request.answers, number), _l("this ID number is already signed up")
            )


def _refuse(detail: str, pointer: str, message: str) -> None:
    raise Refused(detail, code="already_signed_up", errors=[FieldProblem(pointer, message, "already_signed_up")])


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _answer_holding(answers: Mapping[str, Any], value: str) -> str:
    """The pointer to the answer (a top-level field, or a field of a listed person) that holds ``value``."""
    return next(_pointers_to(answers, value), "/answers")


def _pointers_to(answers: Mapping[str, Any], value: str) -> Iterator[str]:
    for key, answer in answers.items():
        if answer == value:
            yield json_pointer("answers", key)
        elif isinstance(answer, list | tuple):
            for index, record in enumerate(answer):
                if isinstance(record, Mapping):
                    yield from (json_pointer("answers", key, index, field) for field, item in record.items() if item == value)
