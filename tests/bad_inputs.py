"""Bad-input matrices for request bodies, read off the JSON Schema each endpoint validates with.

``bad_inputs(SCHEMA, VALID)`` gives, for every field of the body: a value of
the wrong type, the body without it when it is required, a string too long
(or too short, or off its pattern), a number out of range, a NUL character in
a string or an object's member, a malformed date-time where one is expected,
and an unknown extra field for the body. Each case carries the JSON pointer the problem
document must name. Tests add the rows a schema cannot express (a checksum,
a time zone) with :func:`case`.

Imported by name (``from bad_inputs import …``): test folders are not packages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# One value of each JSON type, the likeliest mistakes first.
SAMPLES: tuple[tuple[str, Any], ...] = (("string", "12"), ("integer", 12), ("array", []), ("object", {}), ("boolean", True), ("null", None))
BAD_DATE_TIMES = {
    "not a date-time": "next tuesday",
    "impossible date": "2026-02-30T09:00:00+08:00",
    "no UTC offset": "2026-12-09T09:00:00",
    "date only": "2026-12-09",
    "year 1": "0001-01-01T00:00:00+14:00",
}


@dataclass(frozen=True)
class BadInput:
    """A request body that must be refused, and the JSON pointer the refusal must name."""

    name: str
    body: Any
    pointer: str

    def __str__(self) -> str:
        return self.name


def case(label: str, valid: Mapping[str, Any], pointer: str, /, **fields: Any) -> BadInput:
    """``valid`` with ``fields`` changed, refused at ``pointer``: a row the schema cannot express."""
    return BadInput(label, {**valid, **fields}, pointer)


def bad_inputs(schema: Mapping[str, Any], valid: Mapping[str, Any]) -> list[BadInput]:
    """Every bad-input case of a body ``schema`` (an object schema), each a copy of ``valid`` with one thing wrong."""
    found = [
        BadInput(f"{name}: {what}", {**valid, name: value}, pointer)
        for name, field in schema["properties"].items()
        for what, value, pointer in _bad_values(field, f"/{name}", valid.get(name))
    ]
    found += [BadInput(f"{name}: missing", {k: v for k, v in valid.items() if k != name}, f"/{name}") for name in schema.get("required", ())]
    if schema.get("additionalProperties") is False:
        found.append(BadInput("unknown field", {**valid, "surprise": 1}, "/surprise"))
    return found


def _bad_values(field: Mapping[str, Any], pointer: str, example: Any) -> Iterator[tuple[str, Any, str]]:
    types = _types(field)
    for json_type, value in SAMPLES:
        if json_type not in types and not (json_type == "integer" and "number" in types):
            yield "wrong type", value, pointer
            break
    if "integer" in types:
        yield "fraction", 1.5, pointer
        yield "boolean for a number", True, pointer
    if "enum" in field:
        yield "not one of the choices", "no-such-choice", pointer
    if "minimum" in field:
        yield "below the minimum", field["minimum"] - 1, pointer
    if "maximum" in field:
        yield "above the maximum", field["maximum"] + 1, pointer
    if "string" in types:
        yield from _bad_strings(field, pointer, example if isinstance(example, str) else "x")
    if "array" in types:
        if field.get("minItems"):
            yield "too few items", [], pointer
        items = field.get("items", {})
        if "enum" in items:
            yield "an item not one of the choices", ["no-such-choice"], f"{pointer}/0"
    if "object" in types:
        yield "NUL character in a member", {"note": "x\x00"}, f"{pointer}/note"
    if isinstance(field.get("additionalProperties"), Mapping) and "object" in types:
        inner = field["additionalProperties"]
        value = next(value for json_type, value in SAMPLES if json_type not in _types(inner))
        yield "a member of the wrong type", {"key": value}, f"{pointer}/key"


def _bad_strings(field: Mapping[str, Any], pointer: str, example: str) -> Iterator[tuple[str, Any, str]]:
    if "maxLength" in field:
        yield "too long", "x" * (field["maxLength"] + 1), pointer
    if field.get("minLength"):
        yield "empty", "", pointer
    if "pattern" in field:
        off = next(v for v in ("!", "x" * 1000, "9" * 1000, "") if not re.search(field["pattern"], v))
        yield "off its pattern", off, pointer
    yield "NUL character", example[:1] + "\x00" + example[1:], pointer
    if field.get("format") == "date-time":
        for what, value in BAD_DATE_TIMES.items():
            yield what, value, pointer


def _types(field: Mapping[str, Any]) -> set[str]:
    declared = field.get("type")
    if declared is not None:
        return set(declared) if isinstance(declared, list) else {declared}
    if "enum" in field:
        return {_json_type(v) for v in field["enum"]}
    if "const" in field:
        return {_json_type(field["const"])}
    return set(dict(SAMPLES))  # no type: anything goes


def _json_type(value: Any) -> str:
    return next(json_type for json_type, sample in SAMPLES if type(sample) is type(value))
