"""The form designer's model: a form (definition + UI schema) as a list of editable fields, and back.

The designer's page posts every field on every button (move, remove, add, save,
publish), so nothing typed is lost; :func:`read_fields` reads them as typed (a
limit that is not a number stays the text it was, for the form's validation to
point at), :func:`apply_action` moves, removes or adds one, and :func:`to_form`
writes the definition and UI schema the catalog validates and publishes. What the
designer does not edit (a person list's people, ``x-person``, a vertical's
conditions) rides along untouched.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yuyue import json_input
from yuyue.forms.fields import FieldType, infer_field_type
from yuyue.presenting.language import LOCALES, localize

__all__ = ["DesignedField", "LIMIT_KEYWORDS", "MAX_FIELDS", "apply_action", "fields_of", "read_fields", "to_form"]

MAX_FIELDS = 60
MAX_OPTIONS = 100
MAX_TEXT = 500
# Keywords a merchant sets as numbers, when the field type allows them.
LIMIT_KEYWORDS = ("minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems")
# Keywords the designer edits itself; every other keyword of a field is kept as it was.
_EDITED = {"x-field", "pattern", "x-options", "x-show-if", *LIMIT_KEYWORDS}
_EDITED_UI = {"label", "help"}
# Form-wide keywords the designer keeps as they were (a vertical's conditions).
_FORM_KEPT = ("$schema", "$id", "title", "description", "additionalProperties", "dependentRequired", "if", "then", "else", "allOf")
_NUMBER = re.compile(r"^-?[0-9]{1,10}(\.[0-9]{1,6})?$")
# What a new field of a record-list type starts with: the people it lists need a name.
_NEW_PERSON_LIST = {
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "x-field": "text", "x-person": "name", "minLength": 1, "maxLength": 40},
            "id_card": {"type": "string", "x-field": "id_card", "x-person": "id_number"},
        },
        "required": ["name"],
        "additionalProperties": False,
    },
}


@dataclass
class DesignedField:
    """One field as the designer shows it; ``extra`` and ``extra_ui`` hold what it does not edit."""

    key: str
    type: str
    label: dict[str, str] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    options: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)
    pattern: str = ""
    show_if: tuple[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    extra_ui: dict[str, Any] = field(default_factory=dict)


def _localized(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return dict.fromkeys(LOCALES, value)
    if isinstance(value, Mapping):
        return {locale: value[locale] for locale in LOCALES if isinstance(value.get(locale), str)}
    return {}


def fields_of(definition: Mapping[str, Any], ui: Mapping[str, Any]) -> list[DesignedField]:
    """The fields of a form in its UI order (then any the order leaves out)."""
    properties = definition.get("properties") if isinstance(definition.get("properties"), Mapping) else {}
    shown = ui.get("fields") if isinstance(ui.get("fields"), Mapping) else {}
    order = [name for name in ui.get("order", []) if name in properties] if isinstance(ui.get("order"), list) else []
    order += [name for name in properties if name not in order]
    required = set(definition.get("required", [])) if isinstance(definition.get("required"), list) else set()
    designed = []
    for name in order:
        spec = properties[name] if isinstance(properties[name], Mapping) else {}
        look = shown.get(name) if isinstance(shown.get(name), Mapping) else {}
        label = _localized(look.get("label")) or ({"en": spec["title"]} if isinstance(spec.get("title"), str) else {})
        condition = spec.get("x-show-if")
        show_if = None
        if isinstance(condition, Mapping) and isinstance(condition.get("enum"), list) and condition["enum"]:
            show_if = (condition.get("field"), condition["enum"][0])
        options = spec.get("x-options") if isinstance(spec.get("x-options"), list) else []
        designed.append(
            DesignedField(
                key=name,
                type=spec.get("x-field") or infer_field_type(spec) or "text",
                label=label,
                help=_localized(look.get("help")),
                required=name in required,
                options=[{"value": o.get("value"), "label": _localized(o.get("label"))} for o in options if isinstance(o, Mapping)],
                limits={keyword: spec[keyword] for keyword in LIMIT_KEYWORDS if keyword in spec},
                pattern=spec.get("pattern", "") if isinstance(spec.get("pattern"), str) else "",
                show_if=show_if,
                extra={key: copy.deepcopy(value) for key, value in spec.items() if key not in _EDITED},
                extra_ui={key: copy.deepcopy(value) for key, value in look.items() if key not in _EDITED_UI},
            )
        )
    return designed


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()[:MAX_TEXT]


def _number_or_text(text: str) -> Any:
    """A limit as a number, or as typed when it is not one (the form's validation says so, beside the field)."""
    if not _NUMBER.match(text):
        return text
    return float(text) if "." in text else int(text)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json_input.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _count(form: Mapping[str, str], name: str, most: int) -> int:
    text = form.get(name) or "0"
    return min(int(text), most) if text.isdecimal() and len(text) < 6 else 0


def read_fields(form: Mapping[str, str], field_types: Mapping[str, FieldType]) -> list[DesignedField]:
    """The fields as posted by the designer's page (``f<i>.…`` inputs), in the posted order."""
    designed = []
    for index in range(_count(form, "field_count", MAX_FIELDS)):
        at = f"f{index}."
        kind = _text(form, at + "type")
        if kind not in field_types:
            continue
        options = []
        for number in range(_count(form, at + "option_count", MAX_OPTIONS) + 1):
            value = _text(form, f"{at}opt{number}.value")
            label = {locale: text for locale in LOCALES if (text := _text(form, f"{at}opt{number}.label.{locale}"))}
            if value or label:
                options.append({"value": value, "label": label})
        show_if = None
        if condition := form.get(at + "show_if"):
            try:
                parsed = json_input.loads(condition)
            except ValueError:
                parsed = None
            if isinstance(parsed, list) and len(parsed) == 2 and isinstance(parsed[0], str):
                show_if = (parsed[0], parsed[1])
        designed.append(
            DesignedField(
                key=_text(form, at + "key"),
                type=kind,
                label={locale: text for locale in LOCALES if (text := _text(form, f"{at}label.{locale}"))},
                help={locale: text for locale in LOCALES if (text := _text(form, f"{at}help.{locale}"))},
                required=form.get(at + "required") == "on",
                options=options,
                limits={keyword: _number_or_text(text) for keyword in LIMIT_KEYWORDS if (text := _text(form, f"{at}limit.{keyword}"))},
                pattern=_text(form, at + "pattern"),
                show_if=show_if,
                extra=_json_object(form.get(at + "extra") or ""),
                extra_ui=_json_object(form.get(at + "extra_ui") or ""),
            )
        )
    return designed


def new_field(kind: str, field_types: Mapping[str, FieldType], taken: set[str]) -> DesignedField:
    """A field of type ``kind`` with a free key and the type's name as its label."""
    number = 1
    while f"{kind}_{number}" in taken:
        number += 1
    field_type = field_types[kind]
    designed = DesignedField(key=f"{kind}_{number}", type=kind, label=_localized(field_type.label) or {"en": kind})
    if field_type.record_list:
        designed.extra = copy.deepcopy(_NEW_PERSON_LIST)
    if "x-options" in field_type.config:
        designed.options = [{"value": "a", "label": {"zh-Hans": "选项一", "zh-Hant": "選項一", "en": "Option 1"}}]
    return designed


def apply_action(fields: list[DesignedField], action: str, *, new_type: str, field_types: Mapping[str, FieldType]) -> list[DesignedField]:
    """``up:<i>``, ``down:<i>``, ``remove:<i>`` or ``add`` (of ``new_type``) applied to the fields; anything else changes nothing."""
    fields = list(fields)
    verb, _, where = action.partition(":")
    index = int(where) if where.isdecimal() and len(where) < 4 else -1
    if verb == "add" and new_type in field_types and len(fields) < MAX_FIELDS:
        fields.append(new_field(new_type, field_types, {f.key for f in fields}))
    elif verb == "remove" and 0 <= index < len(fields):
        del fields[index]
    elif verb == "up" and 0 < index < len(fields):
        fields[index - 1], fields[index] = fields[index], fields[index - 1]
    elif verb == "down" and 0 <= index < len(fields) - 1:
        fields[index], fields[index + 1] = fields[index + 1], fields[index]
    return fields


def to_form(
    fields: list[DesignedField], kept_from: Mapping[str, Any], kept_ui: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[int, str]]:
    """The definition and UI schema of ``fields`` (form-wide keywords kept from ``kept_from`` and ``kept_ui``), and the keys renamed to stay unique (index → old key)."""
    names = {designed.key for designed in fields}
    definition: dict[str, Any] = {key: copy.deepcopy(kept_from[key]) for key in _FORM_KEPT if key in kept_from}
    _drop_conditions_on_removed_fields(definition, names)
    definition["type"] = "object"
    properties: dict[str, Any] = {}
    ui_fields: dict[str, Any] = {}
    required: list[str] = []
    renamed: dict[int, str] = {}
    for index, designed in enumerate(fields):
        key = designed.key
        if key in properties:
            suffix = 2
            while f"{key}_{suffix}" in properties:
                suffix += 1
            renamed[index], key = key, f"{key}_{suffix}"
            designed.key = key
        spec: dict[str, Any] = {**copy.deepcopy(designed.extra), "x-field": designed.type}
        if designed.label and "title" not in spec:
            # The title names the field in messages no locale reaches (and in the dialect's own terms); the label is what people read.
            spec["title"] = designed.label.get("en") or next(iter(designed.label.values()))
        spec.update(designed.limits)
        if designed.pattern:
            spec["pattern"] = designed.pattern
        if designed.options:
            spec["x-options"] = [{"value": option["value"], "label": option["label"] or option["value"]} for option in designed.options]
            if "enum" in spec:  # kept in step with the options, which say the allowed values
                spec["enum"] = [option["value"] for option in designed.options]
        if designed.show_if is not None:
            spec["x-show-if"] = {"field": designed.show_if[0], "enum": [designed.show_if[1]]}
        properties[key] = spec
        look = copy.deepcopy(designed.extra_ui)
        if designed.label:
            look["label"] = dict(designed.label)
        if designed.help:
            look["help"] = dict(designed.help)
        if look:
            ui_fields[key] = look
        if designed.required:
            required.append(key)
    definition["properties"] = properties
    if required:
        definition["required"] = required
    ui = {**({"$schema": kept_ui["$schema"]} if kept_ui and "$schema" in kept_ui else {}), "order": list(properties), "fields": ui_fields}
    return definition, ui, renamed


def _named(block: Any) -> set[str]:
    """The fields a condition (``if``/``then``/``else`` parts) names."""
    names: set[str] = set()
    for part in block.values() if isinstance(block, Mapping) else ():
        if not isinstance(part, Mapping):
            continue
        names |= set(part.get("properties", {})) if isinstance(part.get("properties"), Mapping) else set()
        names |= {name for name in part.get("required", []) if isinstance(name, str)} if isinstance(part.get("required"), list) else set()
        for trigger, needed in (part.get("dependentRequired") or {}).items() if isinstance(part.get("dependentRequired"), Mapping) else ():
            names |= {trigger, *(needed if isinstance(needed, list) else [])}
    return names


def _drop_conditions_on_removed_fields(definition: dict[str, Any], names: set[str]) -> None:
    """Conditions naming a field the merchant removed go with it (a vertical's rules about that field no longer apply)."""
    top = {part: definition[part] for part in ("if", "then", "else") if part in definition}
    if top and not _named(top) <= names:
        for part in top:
            del definition[part]
    if isinstance(definition.get("allOf"), list):
        definition["allOf"] = [block for block in definition["allOf"] if _named(block) <= names]
        if not definition["allOf"]:
            del definition["allOf"]
    if isinstance(definition.get("dependentRequired"), Mapping):
        definition["dependentRequired"] = {
            trigger: needed
            for trigger, needed in definition["dependentRequired"].items()
            if trigger in names and set(needed if isinstance(needed, list) else []) <= names
        }
        if not definition["dependentRequired"]:
            del definition["dependentRequired"]


def show_if_choices(fields: list[DesignedField], locale: str) -> list[tuple[str, str, str]]:
    """(field key, choice value as JSON, "label = option") for every single-answer field with options or yes/no."""
    choices = []
    for designed in fields:
        name = localize(designed.label, locale) or designed.key
        if designed.options and designed.type != "multiselect":
            for option in designed.options:
                choices.append(
                    (
                        designed.key,
                        json.dumps([designed.key, option["value"]], ensure_ascii=False),
                        f"{name} = {localize(option['label'], locale) or option['value']}",
                    )
                )
        elif designed.type == "checkbox":
            for value, shown in ((True, "✓"), (False, "✗")):
                choices.append((designed.key, json.dumps([designed.key, value]), f"{name} = {shown}"))
    return choices


def field_problems(problems: list[Any], fields: list[DesignedField]) -> tuple[dict[tuple[int, str], str], list[str]]:
    """Problems of the form by (field index, part) — part ``key``, ``label``, ``options``, ``limit.<kw>``, … or ``""`` for the field as a whole — and those of no field."""
    by_key = {designed.key: index for index, designed in enumerate(fields)}
    placed: dict[tuple[int, str], str] = {}
    general: list[str] = []
    for problem in problems:
        parts = [part.replace("~1", "/").replace("~0", "~") for part in problem.pointer.split("/")[1:]]
        if parts[:1] in (["definition"], ["form"]) and parts[1:2] == ["properties"] and len(parts) > 2 and parts[2] in by_key:
            index, rest = by_key[parts[2]], parts[3:]
            keyword = rest[0] if rest else ""
            part = {
                "x-options": "options",
                "enum": "options",
                "items": "options" if fields[index].options else "",
                "x-show-if": "show_if",
                "pattern": "pattern",
                "title": "label",
                "x-field": "",
            }.get(keyword, f"limit.{keyword}" if keyword in LIMIT_KEYWORDS else ("key" if not rest and problem.code == "not_in_dialect" else ""))
            placed.setdefault((index, part), problem.message)
        elif parts[:1] == ["ui"] and parts[1:2] == ["fields"] and len(parts) > 2 and parts[2] in by_key:
            part = {"label": "label", "help": "help"}.get(parts[3] if len(parts) > 3 else "", "")
            placed.setdefault((by_key[parts[2]], part), problem.message)
        elif parts[:1] in (["definition"], ["form"]) and parts[1:2] == ["required"]:
            general.append(problem.message)
        else:
            general.append(f"{problem.pointer}: {problem.message}" if problem.pointer else problem.message)
    return placed, general
