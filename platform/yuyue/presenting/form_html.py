"""A booking form as accessible HTML, and a posted HTML form read back into answers: what the customer pages and the builder's preview share.

:func:`render_form` draws a form version (the definition as authored and its UI
schema) in one locale: every control has a ``<label>``, each problem sits next to
its field (``aria-describedby``), and the values given are kept, so a refused
submission comes back as typed. A field shown only for another's answer
(``x-show-if``) carries ``data-show-if`` for a script to hide it, and says when it
applies for readers without one; the server drops its answer while hidden.
:func:`read_form` turns the posted inputs into the answers object the booking
operations validate. Nothing here knows the admin: it needs only a Flask app
with the ``templates/forms/`` macros.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from yuyue.errors import json_pointer
from yuyue.forms.fields import FieldType, infer_field_type
from yuyue.presenting.language import localize

__all__ = ["FieldView", "form_fields", "read_form", "render_form"]

# Widgets the macros draw; any other (a plugin's own) is drawn by its answer's JSON type.
WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "tel",
        "email",
        "id_card",
        "number",
        "stepper",
        "date",
        "time",
        "select",
        "radio",
        "picker",
        "checkboxes",
        "checkbox",
        "consent",
        "person_list",
        "stop_picker",
    }
)
_BY_JSON_TYPE = {"string": "text", "integer": "number", "number": "number", "boolean": "checkbox", "array": "checkboxes"}
# Blank rows a person list offers beyond those filled in (never above its maxItems).
_SPARE_PEOPLE = 1
_MAX_PEOPLE_SHOWN = 50


@dataclass
class Option:
    value: Any
    label: str
    text: str  # the value as the input posts it


@dataclass
class FieldView:
    """One field as the macros draw it."""

    name: str  # the input's name
    id: str
    label: str
    widget: str
    help: str | None = None
    placeholder: str | None = None
    required: bool = False
    value: Any = None
    error: str | None = None
    options: list[Option] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    show_if: str | None = None  # JSON for data-show-if
    condition: str | None = None  # "only when …" for readers without the script
    rows: list[list[FieldView]] = field(default_factory=list)  # a person list's people


def _field_type_key(spec: Mapping[str, Any]) -> str | None:
    return spec.get("x-field") or infer_field_type(spec)


def _list(value: Any) -> list[Any]:
    """``value`` if it is a list, else none: an unpublished draft may hold anything, and a preview of it must still draw."""
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _options(spec: Mapping[str, Any], locale: str) -> list[Option]:
    listed = spec.get("x-options")
    if isinstance(listed, list):
        return [
            Option(o.get("value"), str(localize(o.get("label"), locale) or o.get("value")), _as_text(o.get("value"))) for o in listed if isinstance(o, Mapping)
        ]
    values = _list(spec.get("enum")) or _list(_mapping(spec.get("items")).get("enum"))
    return [Option(value, str(value), _as_text(value)) for value in values]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _limits(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The browser's own checks (a convenience: the server checks everything)."""
    names = {"minLength": "minlength", "maxLength": "maxlength", "minimum": "min", "maximum": "max", "pattern": "pattern"}
    attributes = {attribute: spec[keyword] for keyword, attribute in names.items() if keyword in spec}
    if "multipleOf" in spec:
        attributes["step"] = spec["multipleOf"]
    elif spec.get("type") == "integer":
        attributes["step"] = 1
    elif spec.get("type") == "number":
        attributes["step"] = "any"
    return attributes


def _errors_at(errors: Mapping[str, str], pointer: str) -> str | None:
    return errors.get(pointer)


def _label_of(name: str, spec: Mapping[str, Any], shown: Mapping[str, Any], locale: str) -> str:
    return str(_text_or_none(localize(shown.get("label"), locale)) or spec.get("title") or name)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _condition_text(condition: Mapping[str, Any], fields: Mapping[str, Any], ui_fields: Mapping[str, Any], locale: str) -> str:
    trigger = str(condition.get("field", ""))
    spec = _mapping(fields.get(trigger))
    labels = {option.text: option.label for option in _options(spec, locale)}
    values = [labels.get(_as_text(value), _as_text(value)) for value in _list(condition.get("enum"))]
    return _("Only when “%(field)s” is “%(value)s”.", field=_label_of(trigger, spec, _mapping(ui_fields.get(trigger)), locale), value="”/“".join(values))


def form_fields(
    definition: Mapping[str, Any],
    ui: Mapping[str, Any],
    *,
    locale: str,
    field_types: Mapping[str, FieldType],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    prefix: str = "answers",
) -> list[FieldView]:
    """The fields of a form in the UI schema's order (then any it does not list), ready to draw."""
    fields = _mapping(definition.get("properties"))
    ui_fields = _mapping(ui.get("fields"))
    order = [name for name in _list(ui.get("order")) if isinstance(name, str) and name in fields]
    order += [name for name in fields if name not in order]
    required = {name for name in _list(definition.get("required")) if isinstance(name, str)}
    values, errors = values or {}, errors or {}
    views = []
    for name in order:
        spec, shown = fields[name], _mapping(ui_fields.get(name))
        if not isinstance(spec, Mapping) or shown.get("hidden"):
            continue
        view = _field_view(name, spec, shown, locale, field_types, values.get(name), errors, prefix, (name,), name in required)
        condition = spec.get("x-show-if")
        if isinstance(condition, Mapping):
            view.required = False  # required only while shown: the server decides
            view.show_if = json.dumps(
                {"field": f"{prefix}.{condition.get('field')}", "enum": [_as_text(v) for v in _list(condition.get("enum"))]}, ensure_ascii=False
            )
            view.condition = _condition_text(condition, fields, ui_fields, locale)
        views.append(view)
    return views


def _field_view(
    name: str,
    spec: Mapping[str, Any],
    shown: Mapping[str, Any],
    locale: str,
    field_types: Mapping[str, FieldType],
    value: Any,
    errors: Mapping[str, str],
    prefix: str,
    path: tuple[str | int, ...],
    required: bool,
) -> FieldView:
    key = _field_type_key(spec)
    field_type = field_types.get(key) if key else None
    widget = shown.get("widget") or (field_type.widget if field_type else None) or "text"
    if not isinstance(widget, str) or widget not in WIDGETS:
        widget = _BY_JSON_TYPE.get(spec.get("type") or (field_type.schema.get("type") if field_type else None), "text")
    input_name = ".".join([prefix, *(str(part) for part in path)])
    view = FieldView(
        name=input_name,
        id="f-" + input_name.replace(".", "-"),
        label=_label_of(name, spec, shown, locale),
        widget=widget,
        help=_text_or_none(localize(shown.get("help"), locale) or spec.get("description")),
        placeholder=_text_or_none(localize(shown.get("placeholder"), locale)),
        required=required,
        value=value if value is not None else spec.get("default"),
        error=_errors_at(errors, json_pointer(*path)),
        options=_options(spec, locale),
        attributes=_limits(spec),
    )
    if widget == "person_list":
        items = _mapping(spec.get("items"))
        people = value if isinstance(value, list) else []
        most = max(0, min(_whole(spec.get("maxItems"), _MAX_PEOPLE_SHOWN), _MAX_PEOPLE_SHOWN))
        count = min(max(len(people) + _SPARE_PEOPLE, _whole(spec.get("minItems"), 0)), most)
        item_required = {name for name in _list(items.get("required")) if isinstance(name, str)}
        item_shown = _mapping(shown.get("fields"))
        view.rows = [
            [
                _field_view(
                    sub,
                    sub_spec,
                    item_shown.get(sub, {}),
                    locale,
                    field_types,
                    (people[index] if index < len(people) and isinstance(people[index], Mapping) else {}).get(sub),
                    errors,
                    prefix,
                    (*path, index, sub),
                    False,
                )
                for sub, sub_spec in _mapping(items.get("properties")).items()
                if isinstance(sub_spec, Mapping)
            ]
            for index in range(count)
        ]
        # A person's field is required once that person is given: the server says so if one is missing.
        for row in view.rows:
            for sub_view in row:
                sub_view.attributes.pop("minlength", None)
                sub_view.required = False
            for sub_view, sub in zip(row, _mapping(items.get("properties")), strict=False):
                sub_view.attributes["aria-required"] = "true" if sub in item_required else "false"
    return view


def render_form(
    definition: Mapping[str, Any],
    ui: Mapping[str, Any],
    *,
    locale: str,
    field_types: Mapping[str, FieldType],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    prefix: str = "answers",
) -> Markup:
    """The form's fields as HTML (no ``<form>`` element: the page puts them in its own, with its buttons)."""
    views = form_fields(definition, ui, locale=locale, field_types=field_types, values=values, errors=errors, prefix=prefix)
    general = (errors or {}).get("")
    return Markup(render_template("forms/form.html", fields=views, general_error=general, locale=locale))


def read_form(definition: Mapping[str, Any], form: Mapping[str, Any], *, field_types: Mapping[str, FieldType], prefix: str = "answers") -> dict[str, Any]:
    """The answers a posted HTML form gives, as JSON for the booking operations; blank inputs are left out.

    ``form`` is a ``MultiDict`` (or a mapping of name → value): a multiselect posts its
    name once per choice. Numbers and yes/no are read to JSON numbers and booleans;
    what cannot be read is passed on as typed, for validation to refuse with its message.
    """
    fields = definition.get("properties", {}) if isinstance(definition.get("properties"), Mapping) else {}
    answers: dict[str, Any] = {}
    for name, spec in fields.items():
        if not isinstance(spec, Mapping):
            continue
        value = _read_field(spec, form, f"{prefix}.{name}", field_types)
        if value is not None:
            answers[name] = value
    return answers


def _getlist(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = form.get(name)
    return [] if value is None else value if isinstance(value, list) else [value]


def _read_field(spec: Mapping[str, Any], form: Mapping[str, Any], name: str, field_types: Mapping[str, FieldType]) -> Any:
    kind = spec.get("type") or (field_types[spec["x-field"]].schema.get("type") if spec.get("x-field") in field_types else None)
    if kind == "array":
        items = spec.get("items") if isinstance(spec.get("items"), Mapping) else {}
        if isinstance(items.get("properties"), Mapping):
            people = []
            for index in range(_MAX_PEOPLE_SHOWN):
                person = {
                    sub: v
                    for sub, sub_spec in items["properties"].items()
                    if (v := _read_field(sub_spec, form, f"{name}.{index}.{sub}", field_types)) is not None
                }
                if person:
                    people.append(person)
            return people or None
        chosen = [_typed(text, items, items.get("type")) for text in _getlist(form, name) if text != ""]
        return chosen or None
    texts = _getlist(form, name)
    if kind == "boolean":
        return None if not texts else any(text in ("true", "on", "1") for text in texts)
    text = texts[-1] if texts else ""
    return None if text == "" else _typed(text, spec, kind)


def _typed(text: str, spec: Mapping[str, Any], kind: Any) -> Any:
    """A posted text as the JSON value its field's options or type say (the options' own values first)."""
    for option in (spec.get("x-options") or []) if isinstance(spec.get("x-options"), list) else []:
        if isinstance(option, Mapping) and _as_text(option.get("value")) == text:
            return option.get("value")
    for value in spec.get("enum") or []:
        if _as_text(value) == text:
            return value
    if kind in ("integer", "number"):
        try:
            number = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return text
        return number
    if kind == "boolean":
        return text in ("true", "on", "1")
    return text
