"""The JSON Schemas yuyue's host and plugins share, and a validator that reports problems by JSON pointer.

Schemas ship as package data and are read with :mod:`importlib.resources`,
so they work from a wheel, a zip or an editable checkout alike. Each one has
the ``$id`` ``https://schemas.yuyue.dev/v1/<name>.json`` and refers to the
others by that id; nothing is ever fetched over the network.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import referencing
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from referencing.jsonschema import DRAFT202012

__all__ = [
    "BASE_URI",
    "MAX_INTEGER",
    "Problem",
    "check_bounded_numbers",
    "check_json_schema",
    "json_pointer",
    "problems",
    "problems_against",
    "registry",
    "schema",
    "slot_rule_types",
    "unbounded_numbers",
    "validator",
]

BASE_URI = "https://schemas.yuyue.dev/v1/"
_VERSION_DIR = "v1"
_SLOT_RULES_DIR = "slot-rules"
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# The largest whole number every database yuyue runs on stores in an integer column (PostgreSQL ``integer``).
MAX_INTEGER = 2**31 - 1
_DOCUMENT_URI = "urn:yuyue:document"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document, in a form a person can act on.

    :param pointer: RFC 6901 JSON pointer to the offending value (``""`` is the
        whole document); for an unknown or a missing key, the pointer of that key.
    :param message: what is wrong, in plain words.
    :param keyword: the JSON Schema keyword that failed, e.g. ``required``.
    :param limit: that keyword's value in the schema (``40`` for ``maxLength: 40``; for
        an unknown key, the key and then the keys allowed), so a caller can say
        ``message`` in another language; not part of the problem's identity.
    """

    pointer: str
    message: str
    keyword: str
    limit: Any = field(default=None, compare=False)


def json_pointer(*parts: str | int) -> str:
    """The RFC 6901 JSON pointer to ``parts`` (keys and indexes), escaping ``~`` and ``/`` in each; ``""`` for none."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def schema(name: str) -> dict[str, Any]:
    """Return a copy of the schema called *name*, e.g. ``"vertical"`` or ``"slot-rules/weekly_hours"``.

    A copy, so a caller that adapts a schema (say, to add fields) cannot
    change what every validator in the process checks against.

    :raises KeyError: if there is no such schema.
    """
    return copy.deepcopy(_schemas()[name])


def registry() -> referencing.Registry:
    """Return a registry holding every schema under its ``$id``, for resolving ``$ref`` offline."""
    return _registry()


def validator(name: str) -> Draft202012Validator:
    """Return a cached validator for the schema called *name*, with formats checked.

    :raises KeyError: if there is no such schema.
    """
    return _validator(name)


def problems(name: str, instance: Any) -> list[Problem]:
    """Validate *instance* against the schema called *name*; return its problems sorted by pointer.

    An empty list means the instance is valid. Every independent error is
    reported, not just the first, so a plugin author can fix a file in one go.

    :raises KeyError: if there is no such schema.
    """
    return _problems(_validator(name), instance)


def problems_against(schema: dict[str, Any], instance: Any) -> list[Problem]:
    """Validate *instance* against a schema given as data (a plugin's settings schema, an API payload schema).

    ``$ref`` to the shared schemas resolves offline through :func:`registry`.
    """
    return _problems(Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker()), instance)


def slot_rule_types() -> dict[str, dict[str, Any]]:
    """Return the built-in slot-rule types: type key → JSON Schema of its ``params``."""
    prefix = f"{_SLOT_RULES_DIR}/"
    return {name.removeprefix(prefix): schema(name) for name in sorted(_schemas()) if name.startswith(prefix)}


def check_json_schema(instance: Any) -> list[Problem]:
    """Check that *instance* is a JSON Schema (Draft 2020-12), e.g. a plugin's settings schema.

    Regular expressions in it are compiled, so a broken ``pattern`` is found
    when the plugin loads rather than when a merchant saves settings.
    """
    found = _problems(_metaschema_validator(), instance)
    if isinstance(instance, dict) and instance.get("$schema", _DRAFT_2020_12) != _DRAFT_2020_12:
        found.append(Problem("/$schema", f"only {_DRAFT_2020_12} is supported", "$schema"))
    return sorted(set(found))


def unbounded_numbers(schema: Any, *, document: Any = None, limit: int = MAX_INTEGER) -> list[str]:
    """Where *schema* allows an integer or a number without both bounds inside ±\\ *limit*; ``[]`` if nowhere.

    A value a client sends ends up in an integer column, a ``timedelta`` or a loop
    count, so every number a schema admits needs ``minimum``/``exclusiveMinimum``
    and ``maximum``/``exclusiveMaximum`` within what the database holds (an
    ``enum`` or ``const`` bounds it too). Subschemas and ``$ref`` are followed (the
    shared schemas by their ``$id``; ``#…`` against *document*, default *schema*,
    e.g. an OpenAPI document around it), each target once. Pointers are the path
    walked from *schema*, through a ``$ref`` by its keyword.
    """
    root = schema if document is None else document
    uri = root.get("$id", _DOCUMENT_URI) if isinstance(root, dict) else _DOCUMENT_URI
    resolver = _registry().with_resource(uri, DRAFT202012.create_resource(root)).resolver(uri)
    found: list[str] = []
    _walk_numbers(schema, resolver, "", limit, found, set())
    return found


def check_bounded_numbers(schema: Any) -> list[Problem]:
    """:func:`unbounded_numbers` as problems, for a schema a plugin ships (slot rule params, settings)."""
    message = f"a number here needs minimum and maximum within ±{MAX_INTEGER}, the range of an integer column"
    return [Problem(pointer, message, "unbounded_number") for pointer in unbounded_numbers(schema)]


# Keywords whose value is a subschema, a list of them, or a name → subschema map.
_SUBSCHEMA = ("additionalProperties", "items", "contains", "not", "if", "then", "else", "propertyNames", "unevaluatedItems", "unevaluatedProperties")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")
_NUMBER_TYPES = {"integer", "number"}


def _walk_numbers(node: Any, resolver: referencing.Resolver, pointer: str, limit: int, found: list[str], seen: set[int]) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    declared = node.get("type")
    types = set(declared) if isinstance(declared, list) else {declared}
    if types & _NUMBER_TYPES and not _bounded(node, limit):
        found.append(pointer)
    if isinstance(node.get("$ref"), str):
        target = resolver.lookup(node["$ref"])
        if id(target.contents) not in seen:
            seen.add(id(target.contents))
            _walk_numbers(target.contents, target.resolver, f"{pointer}/$ref", limit, found, seen)
    for keyword in _SUBSCHEMA:
        if keyword in node:
            _walk_numbers(node[keyword], resolver, f"{pointer}/{keyword}", limit, found, seen)
    for keyword in _SUBSCHEMA_LISTS:
        for index, item in enumerate(node.get(keyword) or ()):
            _walk_numbers(item, resolver, f"{pointer}/{keyword}/{index}", limit, found, seen)
    for keyword in _SUBSCHEMA_MAPS:
        for name, item in (node.get(keyword) or {}).items():
            _walk_numbers(item, resolver, pointer + json_pointer(keyword, name), limit, found, seen)


def _bounded(node: dict[str, Any], limit: int) -> bool:
    if "enum" in node or "const" in node:
        return True
    lows = [node[k] for k in ("minimum", "exclusiveMinimum") if _is_number(node.get(k))]
    highs = [node[k] for k in ("maximum", "exclusiveMaximum") if _is_number(node.get(k))]
    return bool(lows and highs) and -limit <= max(lows) and min(highs) <= limit


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


@functools.cache
def _schemas() -> dict[str, dict[str, Any]]:
    root = files(__package__).joinpath(_VERSION_DIR)
    found: dict[str, dict[str, Any]] = {}
    for relative, resource in _json_files(root, ""):
        found[relative.removesuffix(".json")] = json.loads(resource.read_text("utf-8"))
    return found


def _json_files(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            found.extend(_json_files(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(".json"):
            found.append((f"{prefix}{entry.name}", entry))
    return found


@functools.cache
def _registry() -> referencing.Registry:
    resources = [(contents["$id"], DRAFT202012.create_resource(contents)) for contents in _schemas().values()]
    return referencing.Registry().with_resources(resources).crawl()


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_schemas()[name], registry=_registry(), format_checker=FormatChecker())


@functools.cache
def _metaschema_validator() -> Draft202012Validator:
    # Uses jsonschema's own registry, which holds the 2020-12 vocabularies.
    return Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=FormatChecker())


# --------------------------------------------------------------------------
# Turning jsonschema errors into problems
# --------------------------------------------------------------------------


def _problems(checker: Draft202012Validator, instance: Any) -> list[Problem]:
    found: set[Problem] = set()
    for error in checker.iter_errors(instance):
        # anyOf/oneOf errors carry one error per branch; report the branch
        # that came closest, as jsonschema's best_match does.
        found.update(_explain(best_match([error])))
    return sorted(found)


def _explain(error: ValidationError) -> list[Problem]:
    path = list(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties") and (error.validator_value is False):
        return [
            Problem(json_pointer(*path, key), _unknown_key_message(key, error), error.validator, (key, *_allowed_keys(error)))
            for key in _unexpected_keys(error)
        ] or [Problem(json_pointer(*path), error.message, error.validator)]
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(error.validator_value, list):
        # jsonschema reports a missing key at the object that lacks it, one error per key; point at each key.
        # Every error of the keyword names them all, and the caller keeps each problem once.
        missing = [key for key in error.validator_value if isinstance(key, str) and key not in error.instance]
        return [Problem(json_pointer(*path, key), "this field is required", "required", key) for key in missing]
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # jsonschema reports a bad property name at its object; point at the name.
        return [
            Problem(
                json_pointer(*path, error.instance),
                f"invalid name {error.instance!r}: {error.message}",
                str(error.validator),
                error.validator_value,
            )
        ]
    return [Problem(json_pointer(*path), error.message, str(error.validator), error.validator_value)]


def _unexpected_keys(error: ValidationError) -> list[str]:
    instance = error.instance
    if not isinstance(instance, dict):
        return []
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        return sorted(key for key in instance if key not in known and not any(re.search(p, key) for p in patterns))
    # Which keys count as evaluated depends on every applicator around the
    # keyword, which jsonschema does not expose; its message names them.
    listed = re.search(r"\((.*) (?:was|were) unexpected\)", error.message)
    if listed is None:
        return []
    try:
        keys = ast.literal_eval(f"[{listed.group(1)}]")
    except (SyntaxError, ValueError):
        return []
    return sorted(key for key in keys if isinstance(key, str) and key in instance)


def _allowed_keys(error: ValidationError) -> list[str]:
    return sorted(error.schema.get("properties", {}))


def _unknown_key_message(key: str, error: ValidationError) -> str:
    allowed = _allowed_keys(error)
    if not allowed:
        return f"unknown key {key!r}"
    return f"unknown key {key!r}; allowed: {', '.join(allowed)}"
