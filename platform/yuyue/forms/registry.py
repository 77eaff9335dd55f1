"""One application's form vocabulary: the field types and formats its plugins registered.

Built once from the plugin host (``build_form_registry``) and kept at
``app.extensions["yuyue.forms"]``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

import yuyue_schemas
from yuyue.declarations import PluginDeclarationError
from yuyue.errors import InvalidInput
from yuyue.forms.compiler import compile_form
from yuyue.forms.fields import KEY_PATTERN, FieldType
from yuyue.forms.formats import FormatCheck, format_checker
from yuyue.forms.people import Person, people_in
from yuyue.forms.validation import TypedAnswers, validate_answers
from yuyue.registry import PluginLoadError, Registry, collect

if TYPE_CHECKING:
    from yuyue.plugins import PluginHost

__all__ = ["FormRegistry", "build_form_registry", "form_registry"]

_COMPILED_CACHE_SIZE = 1024


class FormRegistry:
    """Field types and formats by name, with the form operations that need them."""

    def __init__(self, field_types: Mapping[str, FieldType], formats: Mapping[str, FormatCheck]):
        self.field_types: Mapping[str, FieldType] = MappingProxyType(dict(field_types))
        self.formats: Mapping[str, FormatCheck] = MappingProxyType(dict(formats))
        self.format_checker = format_checker(self.formats)
        self._compiled: dict[str, dict[str, Any]] = {}

    def compile(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """:func:`yuyue.forms.compiler.compile_form` with this registry's field types and formats."""
        return compile_form(definition, self.field_types, formats=self.formats)

    def validate(self, compiled_schema: Mapping[str, Any], answers: Any) -> TypedAnswers:
        """:func:`yuyue.forms.validation.validate_answers` with this registry's field types and formats."""
        return validate_answers(compiled_schema, answers, self.field_types, self.format_checker)

    def compiled(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """``definition`` compiled; a copy the caller may change.

        Compiled forms are cached by content: row ids can be reused, a definition cannot lie.
        """
        key = json.dumps(definition, sort_keys=True, ensure_ascii=False)
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= _COMPILED_CACHE_SIZE:
                self._compiled.clear()
            compiled = self._compiled[key] = self.compile(definition)
        return copy.deepcopy(compiled)

    def people(self, form: Mapping[str, Any], answers: Mapping[str, Any]) -> list[Person]:
        """:func:`yuyue.forms.people.people_in`: the booker, then each person of a person list."""
        return people_in(form, answers)

    def as_json(self, answers: TypedAnswers) -> dict[str, Any]:
        """Typed answers as the normalized JSON a booking stores."""
        return answers.to_json()


def build_form_registry(host: PluginHost) -> FormRegistry:
    """Collect ``register_field_types()`` and ``register_formats()`` from every plugin of ``host``.

    Every vertical's form is compiled with the result, so a form naming a
    field type that no installed plugin provides stops start-up.

    :raises PluginLoadError: naming the plugin, if it registers something
        malformed or a name another plugin already registered.
    :raises PluginDeclarationError: if a vertical's form does not compile.
    """
    field_types = collect(Registry(kind="field type"), host.hook.register_field_types, _checked_field_type)
    formats: Registry[FormatCheck] = Registry(kind="format")
    for impl in host.hook.register_formats.get_hookimpls():
        declared = impl.function() or {}
        if not isinstance(declared, Mapping):
            raise PluginLoadError(f"plugin {impl.plugin_name!r}: register_formats() must return a dict of name → check, got {declared!r}")
        for name, check in declared.items():
            if not isinstance(name, str) or not name or not callable(check):
                raise PluginLoadError(f"plugin {impl.plugin_name!r}: register_formats() entry {name!r} must map a name to a callable")
            formats.add(name, check, impl.plugin_name)
    registry = FormRegistry(field_types.as_mapping(), formats.as_mapping())
    _check_vertical_forms(host, registry)
    return registry


def _check_vertical_forms(host: PluginHost, registry: FormRegistry) -> None:
    """A vertical's form must compile with the field types installed, or the application does not start."""
    for vertical in host.verticals.values():
        try:
            registry.compile(vertical.form_schema)
        except InvalidInput as error:
            first = error.errors[0]
            raise PluginDeclarationError(vertical.plugin, f"form of vertical {vertical.key!r}", first.pointer, first.message) from None


def _checked_field_type(plugin: str, field_type: Any) -> str:
    if not isinstance(field_type, FieldType):
        raise PluginLoadError(f"plugin {plugin!r}: register_field_types() returned {field_type!r}, not a yuyue.forms.fields.FieldType")
    if not KEY_PATTERN.match(field_type.key):
        raise PluginLoadError(f"plugin {plugin!r}: field type key {field_type.key!r} must be lowercase letters, digits and underscores")
    for problem in yuyue_schemas.check_json_schema(dict(field_type.schema)):
        raise PluginLoadError(f"plugin {plugin!r}: field type {field_type.key!r} has an invalid schema at {problem.pointer or '/'}: {problem.message}")
    return field_type.key


def form_registry(app: Flask | None = None) -> FormRegistry:
    """The form registry of ``app`` (default: the current application)."""
    return (app or current_app).extensions["yuyue.forms"]
