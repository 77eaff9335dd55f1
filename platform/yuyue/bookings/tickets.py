"""The tickets a booking request asks for, checked against its booking type's ticket types.

A request names how many places of each ticket type it wants (``{"adult": 2,
"child": 1}``); their sum is one of the ways it states its headcount, which the
places it takes must equal (``yuyue.bookings.placement``). On a real-name form
the people named must also be able to travel on the tickets: each person gets a
ticket of their own whose age range holds their age on the visit date. That is
a matching of people to tickets, found by augmenting paths, so a person is
refused only when no way of handing out the tickets fits everyone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from yuyue.behaviour import Person
from yuyue.bookings.policies import age_on, birth_date_of
from yuyue.catalog.tickets import fits_age
from yuyue.errors import FieldProblem, InvalidInput, json_pointer

# The most places of one ticket type a request may ask for; a booking type's max_party_size is usually the tighter limit.
MAX_QUANTITY = 1000


def requested_tickets(ticket_types: Sequence[Mapping[str, Any]], tickets: Any) -> dict[str, int]:
    """The request's ``tickets`` as ticket type → quantity; none sent (or ``{}``) is ``{}``.

    :raises InvalidInput: pointing at ``/tickets/<key>`` for a key the booking
        type does not sell (``unknown_ticket_type``) or a quantity that is not a
        whole number from 1 to :data:`MAX_QUANTITY` (``invalid_quantity``).
    """
    if tickets is None:
        return {}
    if not isinstance(tickets, Mapping):
        raise InvalidInput(_l("the tickets are not valid"), errors=[FieldProblem("/tickets", _l("an object of ticket type → number of places"), "type")])
    known = [ticket_type["key"] for ticket_type in ticket_types]
    choose = f"choose from {', '.join(known)}" if known else "this booking type sells no ticket types"
    problems = []
    for key, quantity in tickets.items():
        if key not in known:
            problems.append(FieldProblem(json_pointer("tickets", key), _l("no such ticket type: %(choose)s", choose=choose), "unknown_ticket_type"))
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
            problems.append(
                FieldProblem(
                    json_pointer("tickets", key), _l("a whole number of places from 1 to %(max_quantity)s", max_quantity=MAX_QUANTITY), "invalid_quantity"
                )
            )
    if problems:
        raise InvalidInput(_l("the tickets are not valid"), errors=problems)
    return dict(tickets)


def tickets_for_units(ticket_types: Sequence[Mapping[str, Any]], tickets: Mapping[str, int], units: int) -> tuple[dict[str, int], list[FieldProblem]]:
    """The tickets a booking of ``units`` places carries, and what is wrong with them.

    None asked for: with exactly one ticket type, every place is of that type;
    with more, the request must say (``tickets_required``). The sum of the
    tickets must be the places taken (``party_size_mismatch``).
    """
    if not ticket_types:
        return {}, []
    if not tickets:
        if len(ticket_types) == 1:
            return {ticket_types[0]["key"]: units}, []
        keys = ", ".join(t["key"] for t in ticket_types)
        return {}, [FieldProblem("/tickets", _l("say how many places of each ticket type (%(keys)s) you want", keys=keys), "tickets_required")]
    if sum(tickets.values()) != units:
        return dict(tickets), [
            FieldProblem(
                "/tickets",
                _l("the tickets add up to %(places)s places; this booking takes %(units)s", places=sum(tickets.values()), units=units),
                "party_size_mismatch",
            )
        ]
    return dict(tickets), []


def age_mismatches(
    ticket_types: Sequence[Mapping[str, Any]], tickets: Mapping[str, int], people: Sequence[Person], id_pointers: Sequence[str | None], visit_date: date
) -> list[FieldProblem]:
    """``ticket_age_mismatch`` at the ID number of each person left without a ticket whose age range fits them.

    Someone whose age is unknown (an ID number that is not a mainland resident
    one, and no birth date asked) may take any ticket: staff check the proof at
    the entrance, as the policies' minors rules also count them as adults.
    """
    by_key = {ticket_type["key"]: ticket_type for ticket_type in ticket_types}
    ages = [None if (born := birth_date_of(person)) is None else age_on(born, visit_date) for person in people]
    remaining = dict(tickets)
    holders: dict[str, list[int]] = {key: [] for key in tickets}

    def seat(person: int, visited: set[str]) -> bool:
        """Give ``person`` a ticket, moving someone already seated to another of theirs if need be (an augmenting path)."""
        for key in tickets:
            if key in visited or not fits_age(by_key[key], ages[person]):
                continue
            visited.add(key)
            if remaining[key] > 0:
                remaining[key] -= 1
                holders[key].append(person)
                return True
            for position, other in enumerate(holders[key]):
                if seat(other, visited):
                    holders[key][position] = person
                    return True
        return False

    return [
        FieldProblem(
            "/answers" + (id_pointers[person] or ""),
            _l("%(name)s is %(age)s on the visit date: no ticket left fits that age", name=people[person].name, age=ages[person])
            if people[person].name
            else _l("this person is %(age)s on the visit date: no ticket left fits that age", age=ages[person]),
            "ticket_age_mismatch",
        )
        for person in range(len(people))
        if not seat(person, set())
    ]
