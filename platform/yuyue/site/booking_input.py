"""What the booking page asks beside the merchant's form, read from the post, and every problem put back next to its field.

The merchant's form is drawn and read by :mod:`yuyue.presenting.form_html`; this module reads the
rest: the slot (``at``, ``channel``), tickets, party size, a guest's phone, the saved people a
signed-in customer picks, and the per-form key that makes a double submit book once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import session
from flask_babel import gettext as _

from yuyue.customers.models import Companion
from yuyue.errors import FieldProblem, InvalidInput

__all__ = [
    "PageProblems",
    "asks_party_size",
    "issue_form_key",
    "issued_form_key",
    "person_list",
    "read_quantity",
    "slot_start",
    "sort_problems",
    "with_companions",
]

# The form keys this browser was given, newest first: a few open tabs' worth.
FORM_KEYS = "site_booking_forms"
FORM_KEYS_KEPT = 8
_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
# A form's key as the booking's Idempotency-Key: its own prefix, so it never meets a key an API client chose.
KEY_PREFIX = "site-"
# The most places the page lets one ticket type or a party ask for (the booking type's own limit is checked by the operation).
MAX_QUANTITY = 1000


def slot_start(text: str | None) -> datetime:
    """``?at=``: a slot's start, ISO 8601 with its offset (a ``+`` a person typed arrives as a space)."""
    try:
        parsed = datetime.fromisoformat((text or "").strip().replace(" ", "+")) if text and len(text) <= 40 else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or not 2000 <= parsed.year <= 2100:
        raise InvalidInput(_("Choose a time from the booking page."), code="invalid_slot", errors=[FieldProblem("/at", "not a slot time", "invalid_datetime")])
    return parsed


def issue_form_key() -> str:
    """A new key for one booking form, remembered on this browser (the session cookie) for :func:`issued_form_key`."""
    key = secrets.token_urlsafe(18)
    session[FORM_KEYS] = [key, *session.get(FORM_KEYS, [])][:FORM_KEYS_KEPT]
    return key


def issued_form_key(key: str) -> bool:
    """Whether this browser was given ``key``: only then may a second submit of its form be answered with the first booking."""
    return bool(_FORM_KEY.match(key)) and key in session.get(FORM_KEYS, [])


def read_quantity(text: str | None, pointer: str, problems: list[FieldProblem]) -> int | None:
    """A whole number of places typed in a box: blank or 0 is none; anything else not from 1 to :data:`MAX_QUANTITY` is a problem at ``pointer``."""
    text = (text or "").strip()
    if text in ("", "0"):
        return None
    if text.isdecimal() and len(text) <= 6 and 1 <= int(text) <= MAX_QUANTITY:
        return int(text)
    problems.append(FieldProblem(pointer, _("Enter a whole number from 0 to %(most)s.", most=MAX_QUANTITY), "invalid_quantity"))
    return None


def _properties(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = definition.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def person_list(definition: Mapping[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The form's first list of people (a field whose items name a person with ``x-person``): its name and role → item field."""
    for name, spec in _properties(definition).items():
        items = spec.get("items") if isinstance(spec, Mapping) else None
        item_fields = items.get("properties") if isinstance(items, Mapping) else None
        if isinstance(item_fields, Mapping):
            roles = {sub["x-person"]: key for key, sub in item_fields.items() if isinstance(sub, Mapping) and "x-person" in sub}
            if "name" in roles:
                return name, roles
    return None


def asks_party_size(definition: Mapping[str, Any], ticket_types: list[Any]) -> bool:
    """The page asks how many come unless the tickets, a list of people or a number the form asks (seats, attendees) say it."""
    if ticket_types or person_list(definition):
        return False
    return not any(isinstance(spec, Mapping) and spec.get("type") == "integer" for spec in _properties(definition).values())


def with_companions(definition: Mapping[str, Any], answers: dict[str, Any], picked: list[Companion]) -> dict[str, Any]:
    """``answers`` with the saved people picked added to the form's list of people, each once (by ID number, else by name)."""
    found = person_list(definition)
    if found is None or not picked:
        return answers
    name, roles = found
    people = [person for person in answers.get(name) or [] if isinstance(person, Mapping)]
    id_field = roles.get("id_number")
    known = {(person.get(id_field) if id_field else None) or person.get(roles["name"]) for person in people}
    for companion in picked:
        identity = (companion.id_number if id_field else None) or companion.name
        if identity in known:
            continue
        known.add(identity)
        person = {roles["name"]: companion.name}
        for role, value in (("id_number", companion.id_number), ("phone", companion.phone), ("birth_date", companion.birth_date)):
            if role in roles and value:
                person[roles[role]] = value.isoformat() if role == "birth_date" else value
        people.append(person)
    return {**answers, name: people}


@dataclass
class PageProblems:
    """A refused booking's problems by where they go: the merchant's fields (pointers into the answers), the page's own fields, the top of the form."""

    answers: dict[str, str] = field(default_factory=dict)
    page: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.answers or self.page or self.general)


# Pointers of a booking request outside the answers → the page's field that takes them.
_PAGE_FIELDS = {"/party_size": "party_size", "/tickets": "tickets", "/phone": "phone", "/privacy_consent": "privacy_consent"}


def sort_problems(problems: list[FieldProblem], *, in_answers: bool = False) -> PageProblems:
    """Each problem next to its field; one with no field on the page at the top."""
    sorted_ = PageProblems()
    for problem in problems:
        pointer = problem.pointer
        if in_answers or pointer.startswith("/answers/") or pointer == "/answers":
            sorted_.answers.setdefault(pointer if in_answers else pointer.removeprefix("/answers"), problem.message)
        elif pointer.startswith("/tickets/"):
            sorted_.page.setdefault("tickets." + pointer.removeprefix("/tickets/"), problem.message)
        elif pointer in _PAGE_FIELDS:
            sorted_.page.setdefault(_PAGE_FIELDS[pointer], problem.message)
        else:
            sorted_.general.append(problem.message)
    if "" in sorted_.answers:
        sorted_.general.append(sorted_.answers.pop(""))
    return sorted_
