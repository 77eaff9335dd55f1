"""One generic form for any JSON Schema: slot rules, policies, vertical and plugin settings.

Interface (fixed): :func:`render_schema_form` draws the form's fields for ``schema`` filled with
``value`` and ``errors`` (a JSON pointer → message map, pointers relative to the value), every
input named under ``prefix``; :func:`read_schema_form` reads those inputs back from a submitted
form into a value and validates it against the schema, returning the problems by pointer. A
round trip never loses what was typed: a value that does not validate comes back as typed.

What it draws: objects as fieldsets of their properties (a map of names, such as capacity by
channel, as rows of name and value), arrays as rows with a spare empty row and a remove box
(a submit button adds the next, no script needed), an array of choices as checkboxes, enums as
selects, booleans as a yes / no / unset select (so unset stays unset), numbers and text with
their limits, dates and times with the browser's pickers, localized text as one input per
language (or one for all), and ``oneOf``/``anyOf`` of alternative objects as a choice of the
alternative then its fields. Anything else falls back to a JSON text area for that part.
Presence markers keep an optional empty object or list apart from an absent one, so
``read(render(value)) == value``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from referencing.jsonschema import DRAFT202012

import yuyue_schemas
from yuyue import json_input
from yuyue.errors import json_pointer
from yuyue.presenting.language import LOCALES

if TYPE_CHECKING:
    from referencing._core import Resolver

__all__ = ["read_schema_form", "render_schema_form", "schema_messages"]

_ROOT_URI = "urn:yuyue:schema-form"
_PRESENT = "#present"
_COUNT = "#count"
_REMOVE = "#remove"
_JSON = "#json"
_BRANCH = "#branch"
_ALL_LANGUAGES = "all"
# Spare empty rows under a list, and the most rows read back from one (bounded input).
_MOST_ROWS = 200
_TIME_PATTERN = re.compile(r":\[0-5\]\[0-9\]")
_LANGUAGE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


# --------------------------------------------------------------------------
# Schemas: references resolved, kinds told apart
# --------------------------------------------------------------------------


def _resolver(schema: Mapping[str, Any]) -> Resolver:
    uri = schema.get("$id", _ROOT_URI) if isinstance(schema, Mapping) else _ROOT_URI
    return yuyue_schemas.registry().with_resource(uri, DRAFT202012.create_resource(dict(schema))).resolver(uri)


def _resolve(node: Any, resolver: Resolver) -> tuple[Any, Resolver]:
    """``node`` with its ``$ref`` followed (its own keywords win over the target's), and the resolver for inside it."""
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 20:
        resolved = resolver.lookup(node["$ref"])
        target = resolved.contents if isinstance(resolved.contents, Mapping) else {}
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        resolver = resolved.resolver
        seen += 1
    if isinstance(node, Mapping) and isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(dict(node)))
    return node, resolver


def _is_localized_text(node: Mapping[str, Any]) -> bool:
    branches = node.get("oneOf") or node.get("anyOf") or []
    kinds = {branch.get("type") for branch in branches if isinstance(branch, Mapping)}
    objects = [branch for branch in branches if isinstance(branch, Mapping) and branch.get("type") == "object"]
    return kinds == {"string", "object"} and len(objects) == 1 and set(objects[0].get("properties", {})) == set(LOCALES)


def _kind(node: Any) -> str:
    if node is True or node == {}:
        return "json"
    if not isinstance(node, Mapping):
        return "json"
    if _is_localized_text(node):
        return "localized"
    if "enum" in node:
        return "enum"
    declared = node.get("type")
    if isinstance(declared, list):
        return "json"
    if declared == "object" or "properties" in node:
        return "object"
    if declared == "array":
        return "array"
    if declared in ("integer", "number", "boolean", "string"):
        return declared
    if node.get("oneOf") or node.get("anyOf"):
        branches = node.get("oneOf") or node.get("anyOf")
        if all(isinstance(b, Mapping) and (b.get("type") == "object" or "properties" in b) for b in branches):
            return "branches"
    return "json"


def _english_title(name: str, node: Mapping[str, Any]) -> str:
    return str(node.get("title") or name.replace("_", " ").capitalize())


def _shown(text: str) -> str:
    """``text`` (a schema's English title, label or description) in the reader's language; as is when no catalog has it (plugins' schemas)."""
    return _(text) if text else text


def _title(name: str, node: Mapping[str, Any]) -> str:
    return _shown(_english_title(name, node))


def _choice_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


class _Renderer:
    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        self.shown: set[str] = set()

    def error(self, pointer: str, input_id: str | None = None) -> tuple[str, str]:
        """(attributes for the control, the message's paragraph) for the problem at ``pointer``, if any."""
        message = self.errors.get(pointer)
        if message is None:
            return "", ""
        self.shown.add(pointer)
        if input_id is None:
            return "", f'<p class="field-error">{escape(message)}</p>'
        return (
            f' aria-invalid="true" aria-describedby="{escape(input_id)}-error"',
            f'<p class="field-error" id="{escape(input_id)}-error">{escape(message)}</p>',
        )

    def node(self, node: Any, resolver: Resolver, value: Any, name: str, label: str, pointer: str, required: bool) -> str:
        node, resolver = _resolve(node, resolver)
        kind = _kind(node)
        if kind == "object" and value is not None and not isinstance(value, Mapping):
            kind = "json"
        if kind == "array" and value is not None and not isinstance(value, list):
            kind = "json"
        return getattr(self, "_" + kind)(node, resolver, value, name, label, pointer, required)

    @staticmethod
    def _help(node: Mapping[str, Any], input_id: str) -> str:
        description = node.get("description")
        return f'<p class="help" id="{escape(input_id)}-help">{escape(_shown(description))}</p>' if isinstance(description, str) else ""

    def _label(self, label: str, input_id: str, required: bool) -> str:
        mark = '<span class="required-mark" aria-hidden="true">*</span>' if required else ""
        return f'<label for="{escape(input_id)}">{escape(label)}{mark}</label>'

    def _scalar(self, node: Mapping[str, Any], value: Any, name: str, label: str, pointer: str, required: bool, control: Callable[[str, str, str], str]) -> str:
        """A labelled control; ``control(id, name, attributes)`` draws it (the attributes say where its problem and help are)."""
        input_id = "sf-" + name
        attributes, message = self.error(pointer, input_id)
        help_text = self._help(node, input_id)
        if help_text and not attributes:
            attributes = f' aria-describedby="{escape(input_id)}-help"'
        body = control(escape(input_id), escape(name), attributes)
        return f'<div class="sf-field">{self._label(label, input_id, required)}{body}{help_text}{message}</div>'

    def _string(self, node, resolver, value, name, label, pointer, required) -> str:
        kind = "text"
        if node.get("format") == "date":
            kind = "date"
        elif node.get("format") == "time" or (isinstance(node.get("pattern"), str) and _TIME_PATTERN.search(node["pattern"])):
            kind = "time"
        limit = f' maxlength="{int(node["maxLength"])}"' if isinstance(node.get("maxLength"), int) else ""
        text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

        def control(i: str, n: str, a: str) -> str:
            return f'<input type="{kind}" id="{i}" name="{n}" value="{escape(text)}"{limit}{a}>'

        return self._scalar(node, value, name, label, pointer, required, control)

    def _integer(self, node, resolver, value, name, label, pointer, required) -> str:
        limits = "".join(f' {attribute}="{escape(node[keyword])}"' for keyword, attribute in (("minimum", "min"), ("maximum", "max")) if keyword in node)
        text = "" if value is None else str(value)
        mode = "numeric" if node.get("type") == "integer" else "decimal"

        def control(i: str, n: str, a: str) -> str:
            return f'<input type="text" inputmode="{mode}" id="{i}" name="{n}" value="{escape(text)}"{limits}{a}>'

        return self._scalar(node, value, name, label, pointer, required, control)

    _number = _integer

    def _boolean(self, node, resolver, value, name, label, pointer, required) -> str:
        options = [("", _("Not set")), ("true", _("Yes")), ("false", _("No"))]
        current = "true" if value is True else "false" if value is False else "" if value is None else str(value)
        listed = "".join(f'<option value="{v}"{" selected" if v == current else ""}>{escape(text)}</option>' for v, text in options)
        return self._scalar(node, value, name, label, pointer, required, lambda i, n, a: f'<select id="{i}" name="{n}"{a}>{listed}</select>')

    def _enum(self, node, resolver, value, name, label, pointer, required) -> str:
        current = None if value is None else _choice_text(value)
        choices = [_choice_text(choice) for choice in node["enum"]]
        listed = '<option value="">—</option>' + "".join(
            f'<option value="{escape(c)}"{" selected" if c == current else ""}>{escape(c)}</option>' for c in choices
        )
        if current is not None and current not in choices:
            listed += f'<option value="{escape(current)}" selected>{escape(current)}</option>'
        return self._scalar(node, value, name, label, pointer, required, lambda i, n, a: f'<select id="{i}" name="{n}"{a}>{listed}</select>')

    def _json(self, node, resolver, value, name, label, pointer, required) -> str:
        text = (
            ""
            if value is None
            else value
            if isinstance(value, str) and _kind(node) == "json" and _looks_typed(value)
            else json.dumps(value, ensure_ascii=False, indent=1)
        )

        def control(i: str, n: str, a: str) -> str:
            return f'<textarea id="{i}" name="{n}.{_JSON}" rows="4" class="code"{a}>{escape(text)}</textarea>'

        return self._scalar(node, value, name, label, pointer, required, control)

    def _localized(self, node, resolver, value, name, label, pointer, required) -> str:
        values = value if isinstance(value, Mapping) else {}
        together = value if isinstance(value, str) else ""
        attributes, message = self.error(pointer, "sf-" + name)
        rows = [(f"{name}.{_ALL_LANGUAGES}", _("Every language"), together)] + [
            (f"{name}.{locale}", _LANGUAGE_NAMES[locale], values.get(locale, "")) for locale in LOCALES
        ]
        inputs = "".join(
            f'<label for="sf-{escape(input_name)}" class="small-label">{escape(text)}</label>'
            f'<input type="text" id="sf-{escape(input_name)}" name="{escape(input_name)}" value="{escape(typed if isinstance(typed, str) else "")}" maxlength="500"{attributes}>'
            for input_name, text, typed in rows
        )
        mark = '<span class="required-mark" aria-hidden="true">*</span>' if required else ""
        return f'<fieldset class="sf-localized" id="sf-{escape(name)}"><legend>{escape(label)}{mark}</legend>{self._help(node, "sf-" + name)}{inputs}{message}</fieldset>'

    def _object(self, node, resolver, value, name, label, pointer, required, *, top: bool = False) -> str:
        value = value if isinstance(value, Mapping) else None
        properties = node.get("properties") if isinstance(node.get("properties"), Mapping) else {}
        extra_schema = node.get("additionalProperties")
        known = {key: item for key, item in (value or {}).items() if key in properties}
        unknown = {key: item for key, item in (value or {}).items() if key not in properties}
        needed = set(node.get("required", []))
        parts = []
        if value is not None:
            parts.append(f'<input type="hidden" name="{escape(name)}.{_PRESENT}" value="1">')
        _attributes, message = self.error(pointer)
        parts.append(message)
        for key, item_schema in properties.items():
            parts.append(
                self.node(
                    item_schema,
                    resolver,
                    known.get(key),
                    f"{name}.{key}",
                    _title(key, item_schema if isinstance(item_schema, Mapping) else {}),
                    pointer + json_pointer(key),
                    key in needed,
                )
            )
        if isinstance(extra_schema, Mapping) and (unknown or not properties):
            parts.append(self._map(extra_schema, resolver, unknown, name, pointer))
        elif unknown:
            # Keys the schema does not know: kept, as JSON, so nothing is lost.
            parts.append(self._json({}, resolver, unknown, f"{name}.#extra", _("Other settings"), pointer, False))
        body = "".join(parts)
        if top:
            return body
        mark = '<span class="required-mark" aria-hidden="true">*</span>' if required else ""
        return f'<fieldset class="sf-object"><legend>{escape(label)}{mark}</legend>{self._help(node, "sf-" + name)}{body}</fieldset>'

    def _map(self, item_schema: Any, resolver: Resolver, entries: Mapping[str, Any], name: str, pointer: str) -> str:
        rows = [*entries.items(), ("", None)]
        parts = [f'<input type="hidden" name="{escape(name)}.{_COUNT}" value="{len(rows)}">', '<div class="sf-map">']
        for index, (key, item) in enumerate(rows):
            row = f"{name}.@{index}"
            parts.append('<div class="sf-row">')
            parts.append(f'<label for="sf-{escape(row)}.key" class="small-label">{escape(_("Name"))}</label>')
            parts.append(f'<input type="text" id="sf-{escape(row)}.key" name="{escape(row)}.key" value="{escape(key)}" maxlength="60" class="code-input">')
            parts.append(self.node(item_schema, resolver, item, f"{row}.value", _("Value"), pointer + json_pointer(key) if key else pointer + "/-", False))
            parts.append("</div>")
        parts.append(f'<button type="submit" name="action" value="refresh" class="secondary small">{escape(_("Add a row"))}</button></div>')
        return "".join(parts)

    def _array(self, node, resolver, value, name, label, pointer, required) -> str:
        items, item_resolver = _resolve(node.get("items", {}), resolver)
        mark = '<span class="required-mark" aria-hidden="true">*</span>' if required else ""
        _attributes, message = self.error(pointer)
        present = f'<input type="hidden" name="{escape(name)}.{_PRESENT}" value="1">' if value is not None else ""
        if isinstance(items, Mapping) and "enum" in items:
            chosen = {_choice_text(v) for v in value or []}
            boxes = "".join(
                f'<label class="choice"><input type="checkbox" name="{escape(name)}" value="{escape(_choice_text(choice))}"{" checked" if _choice_text(choice) in chosen else ""}> {escape(_choice_text(choice))}</label>'
                for choice in items["enum"]
            )
            order = f'<input type="hidden" name="{escape(name)}.#order" value="{escape(json.dumps(value, ensure_ascii=False))}">' if value else ""
            return f'<fieldset class="sf-choices" id="sf-{escape(name)}"><legend>{escape(label)}{mark}</legend>{present}{order}{self._help(node, "sf-" + name)}{boxes}{message}</fieldset>'
        rows = [*(value or []), None]
        parts = [f'<input type="hidden" name="{escape(name)}.{_COUNT}" value="{len(rows)}">']
        for index, item in enumerate(rows):
            row = f"{name}.{index}"
            spare = index == len(rows) - 1
            caption = _("New row") if spare else _("Row %(number)s", number=index + 1)
            parts.append(f'<div class="sf-row"><p class="sf-row-title">{escape(caption)}</p>')
            parts.append(self.node(items, item_resolver, item, row, caption, pointer + json_pointer(index), False))
            if not spare:
                parts.append(f'<label class="choice small"><input type="checkbox" name="{escape(row)}.{_REMOVE}"> {escape(_("Remove this row"))}</label>')
            parts.append("</div>")
        parts.append(f'<button type="submit" name="action" value="refresh" class="secondary small">{escape(_("Add a row"))}</button>')
        return f'<fieldset class="sf-array" id="sf-{escape(name)}"><legend>{escape(label)}{mark}</legend>{present}{self._help(node, "sf-" + name)}{message}{"".join(parts)}</fieldset>'

    def _branches(self, node, resolver, value, name, label, pointer, required) -> str:
        branches = node.get("oneOf") or node.get("anyOf")
        chosen = _branch_of(branches, resolver, value)
        options = "".join(
            f'<option value="{index}"{" selected" if index == chosen else ""}>{escape(_title(str(index + 1), _resolve(branch, resolver)[0]))}</option>'
            for index, branch in enumerate(branches)
        )
        picker = (
            f'<label for="sf-{escape(name)}.{_BRANCH}">{escape(_("Kind"))}</label><select id="sf-{escape(name)}.{_BRANCH}" name="{escape(name)}.{_BRANCH}">{options}</select>'
            f'<button type="submit" name="action" value="refresh" class="secondary small">{escape(_("Change"))}</button>'
        )
        branch, branch_resolver = _resolve(branches[chosen], resolver)
        body = self._object(branch, branch_resolver, value, name, label, pointer, required, top=True)
        return f'<fieldset class="sf-object"><legend>{escape(label)}</legend>{picker}{body}</fieldset>'


def _looks_typed(text: str) -> bool:
    """A JSON part that came back as the text typed (it did not parse)."""
    try:
        json_input.loads(text)
    except ValueError:
        return True
    return False


def _branch_of(branches: list[Any], resolver: Resolver, value: Any) -> int:
    if isinstance(value, Mapping):
        for index, branch in enumerate(branches):
            resolved, _inner = _resolve(branch, resolver)
            properties = resolved.get("properties", {}) if isinstance(resolved, Mapping) else {}
            if value.keys() <= properties.keys() and set(resolved.get("required", [])) <= value.keys():
                return index
    return 0


def render_schema_form(schema: Mapping[str, Any], value: Any, *, prefix: str, errors: Mapping[str, str] | None = None) -> Markup:
    """The inputs of a form for ``schema`` holding ``value``, named under ``prefix``, with each of ``errors`` beside its input."""
    renderer = _Renderer(errors or {})
    resolver = _resolver(schema)
    node, inner = _resolve(schema, resolver)
    if _kind(node) == "object" and (value is None or isinstance(value, Mapping)):
        body = renderer._object(node, inner, value if value is not None else {}, prefix, "", "", True, top=True)
    else:
        body = renderer.node(node, inner, value, prefix, _shown(str(node.get("title", ""))) if isinstance(node, Mapping) else "", "", True)
    # Problems at a part the form has no input of are said at the top, with where they are.
    left = "".join(
        f'<p class="field-error">{escape(pointer or "/")}: {escape(message)}</p>'
        for pointer, message in (errors or {}).items()
        if pointer not in renderer.shown
    )
    return Markup(f'<div class="schema-form">{left}{body}</div>')


# --------------------------------------------------------------------------
# The English texts a form can show (for the catalogs: ``yuyue i18n check``)
# --------------------------------------------------------------------------


def schema_messages(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(English text, where) for every title, label and help text the form for ``schema`` can show, whatever its value.

    Walks the schema as :func:`render_schema_form` draws it: property labels (title or readable key),
    help texts (descriptions) of every part but the top, titles of alternatives, the parts of every
    alternative, map and list entry. ``where`` is the JSON pointer of the part in the value (``-`` for
    any row or entry). Labels without a letter (``1``, an alternative's number) are left out.
    """
    found: list[tuple[str, str]] = []

    def add(text: Any, where: str) -> None:
        if isinstance(text, str) and any(character.isalpha() for character in text):
            found.append((text, where or "/"))

    def walk(node: Any, resolver: Resolver, where: str, depth: int, *, top: bool = False) -> None:
        node, resolver = _resolve(node, resolver)
        if depth > 30 or not isinstance(node, Mapping):
            return
        kind = _kind(node)
        if not top and kind != "branches":
            add(node.get("description"), where)
        if kind == "object":
            properties = node.get("properties") if isinstance(node.get("properties"), Mapping) else {}
            for key, item in properties.items():
                add(_english_title(key, item if isinstance(item, Mapping) else {}), where + json_pointer(key))
                walk(item, resolver, where + json_pointer(key), depth + 1)
            if isinstance(node.get("additionalProperties"), Mapping):
                walk(node["additionalProperties"], resolver, where + "/-", depth + 1)
        elif kind == "array":
            items, item_resolver = _resolve(node.get("items", {}), resolver)
            if not (isinstance(items, Mapping) and "enum" in items):
                walk(items, item_resolver, where + "/-", depth + 1)
        elif kind == "branches":
            for index, branch in enumerate(node.get("oneOf") or node.get("anyOf")):
                resolved, branch_resolver = _resolve(branch, resolver)
                add(_english_title(str(index + 1), resolved), where)
                walk(resolved, branch_resolver, where, depth + 1, top=True)

    resolver = _resolver(schema)
    node, _inner = _resolve(schema, resolver)
    if isinstance(node, Mapping) and _kind(node) != "object":
        add(node.get("title"), "")
    walk(schema, resolver, "", 0, top=isinstance(node, Mapping) and _kind(node) == "object")
    return found


# --------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------

_ABSENT = object()


class _Reader:
    def __init__(self, form: Mapping[str, Any]):
        self.form = form
        self.problems: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        value = self.form.get(name)
        return value if isinstance(value, str) else None

    def getlist(self, name: str) -> list[str]:
        getlist = getattr(self.form, "getlist", None)
        if getlist is not None:
            return list(getlist(name))
        value = self.form.get(name)
        return [] if value is None else value if isinstance(value, list) else [value]

    def count(self, name: str) -> int:
        text = self.get(name) or "0"
        return min(int(text), _MOST_ROWS) if text.isdecimal() and len(text) < 6 else 0

    def node(self, node: Any, resolver: Resolver, name: str, pointer: str) -> Any:
        node, resolver = _resolve(node, resolver)
        if self.get(f"{name}.{_JSON}") is not None:
            return self._json(name, pointer)
        return getattr(self, "_" + _kind(node))(node, resolver, name, pointer)

    def _json(self, name: str, pointer: str) -> Any:
        text = (self.get(f"{name}.{_JSON}") or "").strip()
        if not text:
            return _ABSENT
        try:
            return json_input.loads(text)
        except ValueError:
            self.problems[pointer] = _("This is not valid JSON.")
            return text

    def _string(self, node, resolver, name, pointer) -> Any:
        text = self.get(name)
        return _ABSENT if text is None or text == "" else text

    def _integer(self, node, resolver, name, pointer) -> Any:
        text = (self.get(name) or "").strip()
        if not text:
            return _ABSENT
        if _NUMBER.match(text) and len(text) < 40:
            number: int | float = int(text) if text.lstrip("-").isdecimal() else float(text)
            if node.get("type") != "integer" or float(number).is_integer():
                return int(number) if node.get("type") == "integer" else number
        self.problems[pointer] = _("Enter a whole number.") if node.get("type") == "integer" else _("Enter a number.")
        return text

    _number = _integer

    def _boolean(self, node, resolver, name, pointer) -> Any:
        text = self.get(name)
        return True if text == "true" else False if text == "false" else _ABSENT

    def _enum(self, node, resolver, name, pointer) -> Any:
        text = self.get(name)
        if not text:
            return _ABSENT
        for choice in node["enum"]:
            if _choice_text(choice) == text:
                return choice
        self.problems[pointer] = _("Choose one of the options offered.")
        return text

    def _localized(self, node, resolver, name, pointer) -> Any:
        per_language = {locale: text for locale in LOCALES if (text := (self.get(f"{name}.{locale}") or "").strip())}
        if per_language:
            return per_language
        together = (self.get(f"{name}.{_ALL_LANGUAGES}") or "").strip()
        return together or _ABSENT

    def _object(self, node, resolver, name, pointer) -> Any:
        properties = node.get("properties") if isinstance(node.get("properties"), Mapping) else {}
        value: dict[str, Any] = {}
        for key, item_schema in properties.items():
            item = self.node(item_schema, resolver, f"{name}.{key}", pointer + json_pointer(key))
            if item is not _ABSENT:
                value[key] = item
        extra_schema = node.get("additionalProperties")
        if isinstance(extra_schema, Mapping):
            for index in range(self.count(f"{name}.{_COUNT}")):
                row = f"{name}.@{index}"
                key = (self.get(f"{row}.key") or "").strip()
                item = self.node(extra_schema, resolver, f"{row}.value", pointer + json_pointer(key or "-"))
                if key:
                    value[key] = None if item is _ABSENT else item
                elif item is not _ABSENT:
                    self.problems[pointer + "/-"] = _("Give this row a name.")
        extra = self._json(f"{name}.#extra", pointer)
        if isinstance(extra, Mapping):
            value.update(extra)
        if value or self.get(f"{name}.{_PRESENT}"):
            return value
        return _ABSENT

    def _array(self, node, resolver, name, pointer) -> Any:
        items, item_resolver = _resolve(node.get("items", {}), resolver)
        if isinstance(items, Mapping) and "enum" in items:
            posted = self.getlist(name)
            chosen = [choice for choice in items["enum"] if _choice_text(choice) in posted]
            # The order the list had before (the boxes post in the schema's order), new choices after.
            try:
                before = json_input.loads(self.get(f"{name}.#order") or "[]")
            except ValueError:
                before = []
            before = before if isinstance(before, list) else []
            chosen.sort(key=lambda choice: before.index(choice) if choice in before else len(before))
            return chosen if chosen or self.get(f"{name}.{_PRESENT}") else _ABSENT
        value = []
        for index in range(self.count(f"{name}.{_COUNT}")):
            row = f"{name}.{index}"
            if self.get(f"{row}.{_REMOVE}"):
                continue
            item = self.node(items, item_resolver, row, pointer + json_pointer(len(value)))
            if item is not _ABSENT:
                value.append(item)
        return value if value or self.get(f"{name}.{_PRESENT}") else _ABSENT

    def _branches(self, node, resolver, name, pointer) -> Any:
        branches = node.get("oneOf") or node.get("anyOf")
        text = self.get(f"{name}.{_BRANCH}") or "0"
        chosen = int(text) if text.isdecimal() and int(text) < len(branches) else 0
        branch, branch_resolver = _resolve(branches[chosen], resolver)
        return self._object(branch, branch_resolver, name, pointer)


def read_schema_form(schema: Mapping[str, Any], form: Mapping[str, str], *, prefix: str) -> tuple[Any, dict[str, str]]:
    """The value typed under ``prefix`` and its problems by pointer ({} when it is valid).

    What cannot be read (a number that is not one, JSON that does not parse) comes back as the
    text typed, with its problem; the rest is validated against ``schema``.
    """
    reader = _Reader(form)
    resolver = _resolver(schema)
    node, inner = _resolve(schema, resolver)
    value = reader.node(node, inner, prefix, "")
    if value is _ABSENT:
        value = {} if _kind(node) == "object" else None
    problems = dict(reader.problems)
    for problem in yuyue_schemas.problems_against(dict(schema), value):
        problems.setdefault(problem.pointer, problem.message)
    return value, problems
