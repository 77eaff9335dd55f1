"""Checking a submission against a compiled form, and turning it into typed answers.

The server is the authority: whatever the browser checked, every answer is
checked here, and every problem is reported at once, each at the JSON pointer
of the answer concerned, with a stable code and a message in plain words.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from jsonschema import FormatChecker, ValidationError

from yuyue.errors import FieldProblem, InvalidInput, json_pointer
from yuyue.forms.fields import FieldType
from yuyue.forms.formats import FormatCheck, FormatProblem, format_checker
from yuyue.forms.patterns import FormValidator

__all__ = ["InvalidAnswers", "TypedAnswers", "shown_fields", "validate_answers"]


class InvalidAnswers(InvalidInput):
    """Answers to a booking form that do not validate; pointers are relative to the answers object."""


class TypedAnswers(Mapping[str, Any]):
    """A valid submission as Python values: ``date`` for dates, ``int``/``Decimal`` for numbers,
    normalized ID and mobile numbers; a person list is a list of such mappings."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"TypedAnswers({self._values!r})"

    def to_json(self) -> dict[str, Any]:
        """The answers as JSON values, normalized (what a booking stores)."""
        return _to_json(self._values)


def _to_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def validate_answers(
    compiled_schema: Mapping[str, Any],
    answers: Any,
    field_types: Mapping[str, FieldType],
    formats: Mapping[str, FormatCheck] | FormatChecker,
) -> TypedAnswers:
    """Check ``answers`` against a form compiled by :func:`yuyue.forms.compiler.compile_form`.

    Posted values are tidied first (text trimmed, separators dropped from ID
    and mobile numbers); a blank answer (``""`` or ``null``) counts as not given,
    and so does the answer to a field hidden by its ``x-show-if``.

    :param formats: format name → check, or a ready :class:`FormatChecker`.
    :raises InvalidAnswers: with one :class:`FieldProblem` per problem, all at once.
    """
    if not isinstance(answers, Mapping):
        raise InvalidAnswers(_l("the answers must be an object of field → answer"), errors=[FieldProblem("", _l("Send the answers as an object."), "type")])
    checker = formats if isinstance(formats, FormatChecker) else format_checker(formats)
    fields = compiled_schema.get("properties", {})
    prepared = _without_hidden(fields, _prepare(fields, answers, field_types))

    problems: dict[tuple[str, str], FieldProblem] = {}
    for error in FormValidator(compiled_schema, format_checker=checker).iter_errors(prepared):
        for problem in _explain(error, compiled_schema, prepared):
            problems.setdefault((problem.pointer, problem.code or ""), problem)
    # A value of the wrong kind fails every other check too; saying so once is enough.
    wrong_kind = {pointer for pointer, code in problems if code == "type"}
    problems = {key: problem for key, problem in problems.items() if key[0] not in wrong_kind or key[1] == "type"}
    bad = {problem.pointer for problem in problems.values()}
    typed, coercion_problems = _coerce(fields, prepared, field_types, bad, ())
    found = list(problems.values()) + coercion_problems
    if found:
        order = {name: index for index, name in enumerate(fields)}
        found.sort(key=lambda p: (order.get(_first_part(p.pointer), len(order)), p.pointer))
        raise InvalidAnswers(_l("some answers need your attention"), errors=found)
    return TypedAnswers(typed)


# --------------------------------------------------------------------------
# Before and after validation
# --------------------------------------------------------------------------


def _field_type(spec: Mapping[str, Any], field_types: Mapping[str, FieldType]) -> FieldType | None:
    return field_types.get(spec.get("x-field")) if isinstance(spec, Mapping) else None


def _record_fields(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    items = spec.get("items")
    return items.get("properties", {}) if isinstance(items, Mapping) else {}


def _prepare(fields: Mapping[str, Any], answers: Mapping[str, Any], field_types: Mapping[str, FieldType]) -> dict[str, Any]:
    prepared = {}
    for name, value in answers.items():
        spec = fields.get(name)
        field_type = _field_type(spec, field_types) if spec is not None else None
        if field_type is not None:
            if field_type.record_list and isinstance(value, list):
                value = [_prepare(_record_fields(spec), item, field_types) if isinstance(item, Mapping) else item for item in value]
            try:
                value = field_type.normalize(value)
            except (ValueError, TypeError):
                pass  # left as posted; validation says what is wrong with it
        if value is None or value == "":
            continue
        prepared[name] = value
    return prepared


def shown_fields(fields: Mapping[str, Any], answers: Mapping[str, Any]) -> set[str]:
    """The fields a form shows for ``answers``: those without ``x-show-if``, and those whose condition holds.

    A field shown for the answer of a hidden field is hidden too, however long the chain.
    """
    shown = set(fields)
    changed = True
    while changed:
        changed = False
        for name, spec in fields.items():
            condition = spec.get("x-show-if") if isinstance(spec, Mapping) else None
            if name not in shown or not isinstance(condition, Mapping):
                continue
            trigger = condition.get("field")
            if trigger not in shown or trigger not in answers or not _one_of(answers[trigger], condition.get("enum", ())):
                shown.discard(name)
                changed = True
    return shown


def _one_of(value: Any, values: Any) -> bool:
    # JSON equality: True is not 1, as for JSON Schema's enum.
    return any(value == candidate and type(value) is type(candidate) or _same_number(value, candidate) for candidate in values)


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool) and a == b


def _without_hidden(fields: Mapping[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    shown = shown_fields(fields, prepared)
    return {name: value for name, value in prepared.items() if name in shown or name not in fields}


def _coerce(
    fields: Mapping[str, Any],
    prepared: Mapping[str, Any],
    field_types: Mapping[str, FieldType],
    bad: set[str],
    path: tuple[str | int, ...],
) -> tuple[dict[str, Any], list[FieldProblem]]:
    typed: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, value in prepared.items():
        here = json_pointer(*path, name)
        spec = fields.get(name)
        if spec is None or any(pointer == here or pointer.startswith(here + "/") for pointer in bad):
            continue
        field_type = _field_type(spec, field_types)
        if field_type is None:
            typed[name] = value
            continue
        if field_type.record_list:
            records = []
            for index, item in enumerate(value):
                record, record_problems = _coerce(_record_fields(spec), item, field_types, bad, (*path, name, index))
                records.append(record)
                problems += record_problems
            value = records
        try:
            typed[name] = field_type.coerce(value)
        except (ValueError, TypeError, ArithmeticError):
            problems.append(FieldProblem(here, _l("This answer cannot be read; please enter it again."), "unreadable"))
    return typed, problems


# --------------------------------------------------------------------------
# jsonschema errors → problems a customer can act on
# --------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "string": _l("Enter text."),
    "integer": _l("Enter a whole number."),
    "number": _l("Enter a number."),
    "boolean": _l("Answer yes or no."),
    "array": _l("Give a list of answers."),
    "object": _l("Give the details asked for."),
}

_CODES = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "multipleOf": "multiple_of",
    "minItems": "min_items",
    "maxItems": "max_items",
    "uniqueItems": "unique_items",
}


def _first_part(pointer: str) -> str:
    return pointer.split("/")[1].replace("~1", "/").replace("~0", "~") if pointer.count("/") else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _field_at(schema: Mapping[str, Any], path: list[str | int]) -> Mapping[str, Any]:
    """The compiled field an answer at ``path`` belongs to (``{}`` if none), so messages can fit its type."""
    fields, spec = schema.get("properties", {}), {}
    for part in path:
        if isinstance(part, int):
            fields = _record_fields(spec)
            continue
        spec = fields.get(part, {}) if isinstance(fields, Mapping) else {}
    return spec


def _label(schema: Mapping[str, Any], name: str) -> str:
    return schema.get("properties", {}).get(name, {}).get("title") or name


def _at(document: Any, path: list[str | int] | Any) -> Any:
    for part in path:
        document = document[part]
    return document


def _explain(error: ValidationError, schema: Mapping[str, Any], answers: Mapping[str, Any]) -> list[FieldProblem]:
    path = list(error.absolute_path)
    here = json_pointer(*path)
    keyword, limit, instance = error.validator, error.validator_value, error.instance

    if keyword == "required":
        return [FieldProblem(json_pointer(*path, name), _l("This is required."), "required") for name in limit if name not in instance]
    if keyword == "dependentRequired":
        # The owning object's schema, to name the field that made the others required.
        owner = _field_at(schema, path).get("items", {}) if path else schema
        return [
            FieldProblem(json_pointer(*path, name), _l("This is required when “%(field)s” is given.", field=_label(owner, trigger)), "required")
            for trigger, needed in limit.items()
            if trigger in instance
            for name in needed
            if name not in instance
        ]
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        return [FieldProblem(json_pointer(*path, name), _l("This form has no such field."), "unknown_field") for name in instance if name not in known]
    if keyword is None:  # a `false` schema: the field must be absent
        names: list[str | int] = []
        if error.absolute_schema_path and error.absolute_schema_path[-1] == "properties":
            # jsonschema reports a `false` property schema at the object, without the property's name.
            properties, owner = _at(schema, error.absolute_schema_path), _at(answers, path)
            names = [name for name, rule in properties.items() if rule is False and name in owner]
        pointers = [json_pointer(*path, name) for name in names] or [here]
        return [FieldProblem(pointer, _l("Leave this out: it does not apply to your other answers."), "not_applicable") for pointer in pointers]
    if keyword == "format":
        if isinstance(error.cause, FormatProblem):
            return [FieldProblem(here, error.cause.message, error.cause.code)]
        return [FieldProblem(here, _l("This is not a valid %(limit)s.", limit=limit), "format")]

    field = _field_at(schema, path)
    is_people = field.get("x-field") == "person_list" or bool(_record_fields(field))
    if keyword == "type":
        kinds = [limit] if isinstance(limit, str) else list(limit)
        return [FieldProblem(here, _TYPE_MESSAGES.get(kinds[0], _l("This answer has the wrong kind of value.")), "type")]
    if keyword == "const":
        if field.get("x-field") == "consent" or limit is True:
            return [FieldProblem(here, _l("Please tick this box to continue."), "consent_required")]
        return [FieldProblem(here, _l("This answer does not fit your other answers."), "const")]
    message = {
        "enum": lambda: _l("Choose one of the options offered."),
        "pattern": lambda: _l("This is not in the expected form."),
        "minLength": lambda: _l("This cannot be left empty.") if limit == 1 else _l("Enter at least %(limit)s characters.", limit=limit),
        "maxLength": lambda: _l("Enter at most %(limit)s characters.", limit=limit),
        "minimum": lambda: _l("Enter %(limit)s or more.", limit=_number(limit)),
        "maximum": lambda: _l("Enter %(limit)s or less.", limit=_number(limit)),
        "exclusiveMinimum": lambda: _l("Enter more than %(limit)s.", limit=_number(limit)),
        "exclusiveMaximum": lambda: _l("Enter less than %(limit)s.", limit=_number(limit)),
        "multipleOf": lambda: _l("Enter a multiple of %(limit)s.", limit=_number(limit)),
        "minItems": lambda: (
            _nl("Add at least %(num)s person.", "Add at least %(num)s people.", limit) if is_people else _l("Choose at least %(limit)s.", limit=limit)
        ),
        "maxItems": lambda: (
            _l("Leave this empty: it does not apply to your other answers.")
            if limit == 0
            else _nl("Add at most %(num)s person.", "Add at most %(num)s people.", limit)
            if is_people
            else _l("Choose at most %(limit)s.", limit=limit)
        ),
        "uniqueItems": lambda: _l("Each choice may be given only once."),
    }.get(keyword)
    return [FieldProblem(here, message() if message else error.message, _CODES.get(keyword, keyword))]
