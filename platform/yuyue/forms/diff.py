"""What changed between two versions of a form, field by field: what a merchant reads before and after publishing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormChanges", "form_changes"]

# The parts of a field besides its definition's keywords: whether it is required, and how it is shown.
_UI_PARTS = ("label", "help", "placeholder", "widget", "hidden", "fields")
_FORM_CONDITIONS = ("if", "then", "else", "allOf", "dependentRequired")


@dataclass(frozen=True)
class FormChanges:
    """Fields added and removed (by name), fields changed with the properties that changed, and form-wide changes."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    order_changed: bool = False
    conditions_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.order_changed or self.conditions_changed)


def _fields(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    """A form's fields; a draft's form may hold anything, so what is not a field is not one."""
    fields = definition.get("properties")
    return {name: spec for name, spec in fields.items() if isinstance(spec, Mapping)} if isinstance(fields, Mapping) else {}


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _shown(ui: Mapping[str, Any]) -> Mapping[str, Any]:
    fields = ui.get("fields")
    return {name: look for name, look in fields.items() if isinstance(look, Mapping)} if isinstance(fields, Mapping) else {}


def _order(definition: Mapping[str, Any], ui: Mapping[str, Any]) -> list[str]:
    listed = [name for name in _names(ui.get("order")) if name in _fields(definition)]
    return listed + [name for name in _fields(definition) if name not in listed]


def form_changes(old_definition: Mapping[str, Any], old_ui: Mapping[str, Any], new_definition: Mapping[str, Any], new_ui: Mapping[str, Any]) -> FormChanges:
    """The changes from the old form (definition and UI schema) to the new one."""
    old_fields, new_fields = _fields(old_definition), _fields(new_definition)
    old_required, new_required = set(_names(old_definition.get("required"))), set(_names(new_definition.get("required")))
    old_shown, new_shown = _shown(old_ui), _shown(new_ui)
    changed: dict[str, list[str]] = {}
    for name in new_fields:
        if name not in old_fields:
            continue
        before, after = old_fields[name], new_fields[name]
        keywords = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
        if (name in old_required) != (name in new_required):
            keywords.append("required")
        shown_before, shown_after = old_shown.get(name, {}), new_shown.get(name, {})
        keywords += [part for part in _UI_PARTS if shown_before.get(part) != shown_after.get(part)]
        if keywords:
            changed[name] = keywords
    old_order = [name for name in _order(old_definition, old_ui) if name in new_fields]
    new_order = [name for name in _order(new_definition, new_ui) if name in old_fields]
    return FormChanges(
        added=[name for name in _order(new_definition, new_ui) if name not in old_fields],
        removed=[name for name in _order(old_definition, old_ui) if name not in new_fields],
        changed=changed,
        order_changed=old_order != new_order,
        conditions_changed=any(old_definition.get(key) != new_definition.get(key) for key in _FORM_CONDITIONS),
    )
