"""Query parameters: what every API request's query string may hold, and the one way views read numbers from it.

:func:`check_query` runs before every API view (see ``core.register_error_handlers``):
no parameter may hold a NUL character (PostgreSQL cannot even compare text with
one) or be longer than :data:`MAX_QUERY_VALUE_LENGTH`, so no view can hand
either to a query. Views read whole numbers with :func:`query_int`, which
refuses anything outside the range the view names. Every problem is a 422
pointing at the parameter as ``/<name>``, like a body field.
"""

from __future__ import annotations

import base64
import binascii
import re

from flask import request
from flask_babel import lazy_gettext as _l

from yuyue.errors import FieldProblem, InvalidInput, json_pointer

__all__ = ["MAX_QUERY_PARAMETERS", "MAX_QUERY_VALUE_LENGTH", "check_query", "query_int", "query_problem"]

# Longer than any date, slug, cursor or search text the API takes.
MAX_QUERY_VALUE_LENGTH = 200
MAX_QUERY_PARAMETERS = 20
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def query_problem(name: str, message: str, code: str) -> InvalidInput:
    """A 422 about query parameter ``name``."""
    return InvalidInput(_l("the query parameters are not valid"), errors=[FieldProblem(json_pointer(name), message, code)])


def check_query() -> None:
    """Refuse a query string holding a NUL, an over-long value or too many parameters.

    :raises InvalidInput: one problem per offending parameter, at ``/<name>``.
    """
    problems: dict[str, FieldProblem] = {}
    for name, value in request.args.items(multi=True):
        at = json_pointer(name)
        if "\x00" in name or "\x00" in value:
            problems.setdefault(at, FieldProblem(at, _l("must not contain a NUL character"), "nul_character"))
        elif len(name) > MAX_QUERY_VALUE_LENGTH or len(value) > MAX_QUERY_VALUE_LENGTH:
            problems.setdefault(
                at, FieldProblem(at, _l("at most %(max_query_value_length)s characters", max_query_value_length=MAX_QUERY_VALUE_LENGTH), "maxLength")
            )
    if len(request.args) > MAX_QUERY_PARAMETERS:
        problems.setdefault(
            "", FieldProblem("", _l("at most %(max_query_parameters)s query parameters", max_query_parameters=MAX_QUERY_PARAMETERS), "maxProperties")
        )
    if problems:
        raise InvalidInput(_l("the query parameters are not valid"), errors=sorted(problems.values(), key=lambda p: p.pointer))


def query_int(name: str, *, minimum: int, maximum: int, default: int | None = None) -> int | None:
    """Query parameter ``name`` as a whole number from ``minimum`` to ``maximum``, or ``default`` when it is absent.

    :raises InvalidInput: ``out_of_range`` at ``/<name>`` for anything else (a fraction, ``²``, ``1e3``, a huge number).
    """
    value = request.args.get(name)
    if value is None:
        return default
    number = int(value) if _WHOLE_NUMBER.fullmatch(value) else None
    if number is None or not minimum <= number <= maximum:
        raise query_problem(name, _l("a whole number from %(minimum)s to %(maximum)s", minimum=minimum, maximum=maximum), "out_of_range")
    return number


def page_before(*, default: int, maximum: int) -> tuple[int | None, int]:
    """``?cursor=&limit=`` of a list newest first: the id to continue before (from a ``next_cursor``), and the page size."""
    problems: list[FieldProblem] = []
    try:
        limit = query_int("limit", minimum=1, maximum=maximum, default=default)
    except InvalidInput as error:
        limit, problems = default, error.errors
    cursor = request.args.get("cursor")
    before_id = _id_in_cursor(cursor) if cursor else None
    if cursor and before_id is None:
        problems.append(FieldProblem("/cursor", _l("pass back a next_cursor exactly as received"), "invalid_cursor"))
    if problems:
        raise InvalidInput(_l("the page is not valid"), errors=problems)
    return before_id, limit


def cursor_before(row_id: int) -> str:
    """The ``next_cursor`` of a page whose last row has ``row_id``: opaque to clients, read back by :func:`page_before`."""
    return base64.urlsafe_b64encode(f"b{row_id}".encode()).decode().rstrip("=")


def _id_in_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text[1:]) if text[:1] == "b" and text[1:].isdecimal() and len(text) < 20 else None
