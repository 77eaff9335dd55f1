"""Compiling a form as a merchant wrote it (dialect JSON Schema with ``x-field`` keys) into the schema answers must match.

Each field becomes its type's JSON Schema fragment plus the merchant's own
keywords; conditions (``if``/``then``/``else``, ``dependentRequired``,
``allOf`` of conditionals) are kept as written. A field shown only for some
answer of another (``x-show-if``) is required only while shown: its place in
``required`` becomes a conditional of ``allOf``; validation drops its answer
while it is hidden. Every problem with a form is reported at once, by JSON
pointer into the definition.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

import yuyue_schemas
from yuyue.errors import FieldProblem, InvalidInput, json_pointer
from yuyue.forms.fields import COMMON_KEYWORDS, FieldType, infer_field_type
from yuyue.forms.formats import FormatCheck, format_checker
from yuyue.forms.patterns import FormValidator, pattern_problem

__all__ = ["compile_form"]

# What each x-person role needs of its field.
_PERSON_ROLE_NEEDS = {
    "name": ("type", "string"),
    "id_number": ("type", "string"),
    "phone": ("type", "string"),
    "birth_date": ("format", "date"),
}


def compile_form(
    definition: Mapping[str, Any],
    field_types: Mapping[str, FieldType],
    *,
    formats: Mapping[str, FormatCheck] | None = None,
) -> dict[str, Any]:
    """Return the JSON Schema that answers to ``definition`` must match.

    :param field_types: field-type key → :class:`FieldType`.
    :param formats: the registered formats; when given, a field needing any
        other format is refused.
    :raises InvalidInput: with every problem in the form (code ``invalid_form``).
    """
    dialect = yuyue_schemas.problems("form-dialect", definition)
    if dialect:
        problems = [FieldProblem(p.pointer, p.message, "not_in_dialect") for p in dialect]
        raise InvalidInput(_l("the form is not written in the booking-form dialect"), code="invalid_form", errors=problems)

    compiler = _Compiler(field_types, formats)
    compiled = copy.deepcopy(dict(definition))
    compiled["properties"] = compiler.fields(definition["properties"], ("properties",), in_record=False)
    # Unknown answers are always refused, whether or not the author said so.
    compiled["additionalProperties"] = False
    compiler.check_names(definition)
    compiler.show_if(compiled)
    if compiler.problems:
        raise InvalidInput(_l("the form cannot be used as written"), code="invalid_form", errors=compiler.problems)
    return compiled


class _Compiler:
    def __init__(self, field_types: Mapping[str, FieldType], formats: Mapping[str, FormatCheck] | None):
        self.field_types = field_types
        self.formats = formats
        self.checker = format_checker(formats) if formats is not None else None
        self.problems: list[FieldProblem] = []

    def problem(self, path: tuple[str | int, ...], message: str, code: str) -> None:
        self.problems.append(FieldProblem(json_pointer(*path), message, code))

    # -- fields -------------------------------------------------------------

    def fields(self, fields: Mapping[str, Any], path: tuple[str | int, ...], *, in_record: bool) -> dict[str, Any]:
        compiled = {name: self.field(spec, (*path, name), in_record=in_record) for name, spec in fields.items()}
        self.check_person_roles(compiled, path)
        return compiled

    def field(self, spec: Mapping[str, Any], path: tuple[str | int, ...], *, in_record: bool) -> dict[str, Any]:
        key = spec.get("x-field") or infer_field_type(spec)
        if key is None:
            self.problem(path, _l("give this field an x-field: a plain object has no way to be shown"), "unknown_field_type")
            return copy.deepcopy(dict(spec))
        field_type = self.field_types.get(key)
        if field_type is None:
            known = ", ".join(sorted(self.field_types)) or "none"
            self.problem((*path, "x-field"), _l("there is no field type %(key)r (known: %(known)s)", key=key, known=known), "unknown_field_type")
            return copy.deepcopy(dict(spec))
        if field_type.record_list and in_record:
            self.problem(path, _l("a list of people cannot hold another list of people"), "nested_record_list")
        if in_record and "x-show-if" in spec:
            self.problem((*path, "x-show-if"), _l("only a field of the form itself can be shown for another's answer"), "nested_show_if")
        self.check_keywords(field_type, spec, path)

        compiled = {**copy.deepcopy(dict(field_type.schema)), **copy.deepcopy(dict(spec)), "x-field": key}
        fragment_items, own_items = field_type.schema.get("items"), spec.get("items")
        if isinstance(fragment_items, Mapping) and isinstance(own_items, Mapping):
            compiled["items"] = {**copy.deepcopy(dict(fragment_items)), **copy.deepcopy(dict(own_items))}
        self.apply_options(compiled, path)
        for needed in field_type.required_config:
            if not _has_path(compiled, needed):
                if needed.endswith("enum"):
                    message = _l("a %(key)s field needs %(needed)r (or x-options)", key=key, needed=needed)
                else:
                    message = _l("a %(key)s field needs %(needed)r", key=key, needed=needed)
                self.problem(path, message, "missing_config")
        if field_type.record_list and isinstance(compiled.get("items"), dict) and isinstance(compiled["items"].get("properties"), Mapping):
            items = compiled["items"]
            items["properties"] = self.fields(items["properties"], (*path, "items", "properties"), in_record=True)
            for index, name in enumerate(items.get("required", [])):
                if name not in items["properties"]:
                    self.problem((*path, "items", "required", index), _l("no field %(name)r in each person's details", name=name), "unknown_field")
        if self.formats is not None and "format" in compiled and compiled["format"] not in self.formats:
            where = (*path, "format") if "format" in spec else (*path, "x-field")
            self.problem(where, _l("no format %(format)r is registered", format=compiled["format"]), "unknown_format")
        if isinstance(spec.get("pattern"), str) and (unusable := pattern_problem(spec["pattern"])):
            self.problem((*path, "pattern"), unusable, "unsupported_pattern")
        if "default" in spec:
            for error in FormValidator(compiled, format_checker=self.checker).iter_errors(spec["default"]):
                self.problem(
                    (*path, "default", *error.absolute_path), _l("the default is not a valid answer: %(message)s", message=error.message), "invalid_default"
                )
        return compiled

    def check_keywords(self, field_type: FieldType, spec: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
        for keyword, value in spec.items():
            if keyword in COMMON_KEYWORDS:
                continue
            if keyword in field_type.config:
                rule = field_type.config[keyword]
                if rule is not True:
                    for found in yuyue_schemas.problems_against(rule, value):
                        self.problems.append(FieldProblem(json_pointer(*path, keyword) + found.pointer, found.message, "not_configurable"))
                continue
            if keyword in field_type.schema:
                if value != field_type.schema[keyword]:
                    fixed = json.dumps(field_type.schema[keyword], ensure_ascii=False)
                    self.problem(
                        (*path, keyword),
                        _l("a %(key)s field always has %(keyword)s %(fixed)s", key=field_type.key, keyword=keyword, fixed=fixed),
                        "conflicts_with_field_type",
                    )
                continue
            allowed = ", ".join(sorted(field_type.config)) or "none"
            self.problem(
                (*path, keyword),
                _l("%(keyword)r cannot be set on a %(key)s field (settable: %(allowed)s)", keyword=keyword, key=field_type.key, allowed=allowed),
                "not_configurable",
            )

    def apply_options(self, compiled: dict[str, Any], path: tuple[str | int, ...]) -> None:
        """``x-options`` label the allowed values; when ``enum`` is absent they are the allowed values."""
        options = compiled.get("x-options")
        if not options:
            return
        values = [option["value"] for option in options]
        target = compiled.setdefault("items", {}) if compiled.get("type") == "array" else compiled
        if "enum" not in target:
            target["enum"] = values
        elif not (all(v in target["enum"] for v in values) and all(v in values for v in target["enum"])):
            self.problem((*path, "x-options"), _l("the options must offer exactly the allowed values (enum)"), "options_mismatch")

    def check_person_roles(self, fields: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
        seen: dict[str, str] = {}
        for name, spec in fields.items():
            role = spec.get("x-person")
            if role is None or spec.get("x-field") not in self.field_types:
                continue  # a field of unknown type is reported as such
            if role in seen:
                self.problem(
                    (*path, name, "x-person"), _l("%(field)r already holds the person's %(role)s", field=seen[role], role=role), "duplicate_person_role"
                )
                continue
            seen[role] = name
            keyword, expected = _PERSON_ROLE_NEEDS[role]
            if spec.get(keyword) != expected:
                self.problem(
                    (*path, name, "x-person"),
                    _l("a person's %(role)s needs a field with %(keyword)s %(expected)r", role=role, keyword=keyword, expected=expected),
                    "person_role_mismatch",
                )

    # -- fields shown for another field's answer --------------------------------

    def show_if(self, compiled: dict[str, Any]) -> None:
        """Check each ``x-show-if`` and make its field required only while it is shown."""
        fields = compiled["properties"]
        conditions = {name: spec["x-show-if"] for name, spec in fields.items() if isinstance(spec, Mapping) and "x-show-if" in spec}
        for name, condition in conditions.items():
            trigger = condition["field"]
            where = ("properties", name, "x-show-if", "field")
            if trigger == name:
                self.problem(where, _l("a field cannot be shown for its own answer"), "show_if_cycle")
            elif trigger not in fields:
                self.problem(where, _l("no field %(trigger)r in this form", trigger=trigger), "unknown_field")
            elif fields[trigger].get("type") in ("array", "object"):
                self.problem(
                    where, _l("%(trigger)r has a list of answers; a field can be shown only for a single answer", trigger=trigger), "show_if_not_single"
                )
            elif _shows_itself(name, conditions):
                self.problem(where, _l("these fields are each shown only for the other's answer, so none would ever be shown"), "show_if_cycle")
        required = compiled.get("required", [])
        conditional = [name for name in required if name in conditions]
        if not conditional:
            return
        compiled["required"] = [name for name in required if name not in conditions]
        if not compiled["required"]:
            del compiled["required"]
        compiled["allOf"] = [
            *compiled.get("allOf", []),
            *(
                {
                    "if": {"properties": {conditions[name]["field"]: {"enum": conditions[name]["enum"]}}, "required": [conditions[name]["field"]]},
                    "then": {"required": [name]},
                }
                for name in conditional
            ),
        ]

    # -- names used by requirements and conditions -----------------------------

    def check_names(self, definition: Mapping[str, Any]) -> None:
        fields = definition["properties"]
        self.check_block(definition, (), fields, with_conditions=False)
        blocks = [((), definition)] + [(("allOf", index), block) for index, block in enumerate(definition.get("allOf", []))]
        for path, block in blocks:
            for part in ("if", "then", "else"):
                if part in block:
                    self.check_block(block[part], (*path, part), fields, with_conditions=True)

    def check_block(self, block: Mapping[str, Any], path: tuple[str | int, ...], fields: Mapping[str, Any], *, with_conditions: bool) -> None:
        def check(name: str, where: tuple[str | int, ...]) -> None:
            if name not in fields:
                self.problem(where, _l("no field %(name)r in this form", name=name), "unknown_field")

        for index, name in enumerate(block.get("required", [])):
            check(name, (*path, "required", index))
        for trigger, needed in block.get("dependentRequired", {}).items():
            check(trigger, (*path, "dependentRequired", trigger))
            for index, name in enumerate(needed):
                check(name, (*path, "dependentRequired", trigger, index))
        if with_conditions:
            for name in block.get("properties", {}):
                check(name, (*path, "properties", name))


def _shows_itself(name: str, conditions: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether following ``name``'s show-if chain comes back to ``name``."""
    seen, current = set(), conditions[name]["field"]
    while current in conditions and current not in seen:
        if current == name:
            return True
        seen.add(current)
        current = conditions[current]["field"]
    return current == name


def _has_path(schema: Mapping[str, Any], path: str) -> bool:
    node: Any = schema
    for part in path.split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True
