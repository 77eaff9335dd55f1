"""The people a booking admits, read from a submission through the form's ``x-person`` keywords.

Identity policies (one booking per ID number a day, at most five people per
account, minors with an adult) work on these, whatever the fields are called.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from yuyue.behaviour import Person
from yuyue.errors import json_pointer
from yuyue.forms.formats import FormatProblem, id_card_birth_date

__all__ = ["Person", "id_number_pointers", "people_in"]


def people_in(definition: Mapping[str, Any], typed_answers: Mapping[str, Any]) -> list[Person]:
    """The booker first (if the form marks any top-level field with ``x-person``), then one person per person-list entry.

    :param definition: the form, as authored or compiled.
    :param typed_answers: the answers as :func:`yuyue.forms.validation.validate_answers` returned them.
    """
    return [_person(roles, record) for _path, roles, record in _records(definition, typed_answers)]


def id_number_pointers(definition: Mapping[str, Any], typed_answers: Mapping[str, Any]) -> list[str | None]:
    """For each person :func:`people_in` reads, in its order, the pointer into the answers of their ID number (None: the form asks for none)."""
    return [json_pointer(*path, roles["id_number"]) if "id_number" in roles else None for path, roles, _record in _records(definition, typed_answers)]


def _records(definition: Mapping[str, Any], typed_answers: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, str], Mapping[str, Any]]]:
    """(where in the answers, x-person role → field name, the answers naming one person) for the booker, then each person-list entry."""
    fields = definition.get("properties", {})
    booker_roles = _roles(fields)
    if booker_roles:
        yield (), booker_roles, typed_answers
    for name, spec in fields.items():
        items = spec.get("items")
        if not isinstance(items, Mapping) or not isinstance(items.get("properties"), Mapping):
            continue
        roles = _roles(items["properties"])
        if roles:
            yield from (((name, index), roles, record) for index, record in enumerate(typed_answers.get(name) or []) if isinstance(record, Mapping))


def _roles(fields: Mapping[str, Any]) -> dict[str, str]:
    """x-person role → field name."""
    return {spec["x-person"]: name for name, spec in fields.items() if isinstance(spec, Mapping) and "x-person" in spec}


def _person(roles: Mapping[str, str], answers: Mapping[str, Any]) -> Person:
    values = {role: answers.get(name) for role, name in roles.items()}
    birth_date = values.get("birth_date")
    if birth_date is None and isinstance(values.get("id_number"), str):
        try:
            birth_date = id_card_birth_date(values["id_number"])
        except FormatProblem:
            birth_date = None  # not a mainland ID number (a passport, say): no birth date to read
    return Person(name=values.get("name"), id_number=values.get("id_number"), phone=values.get("phone"), birth_date=birth_date)
