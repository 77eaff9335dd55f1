"""The host's own field types and formats, registered through the same hooks as any plugin's.

Listed in ``yuyue.plugins.DEFAULT_PLUGINS`` so every application has them.
"""

from __future__ import annotations

from yuyue.forms.fields import BUILTIN_FIELD_TYPES, FieldType
from yuyue.forms.formats import BUILTIN_FORMATS, FormatCheck
from yuyue.hookspecs import hookimpl


@hookimpl
def register_field_types() -> list[FieldType]:
    return list(BUILTIN_FIELD_TYPES)


@hookimpl
def register_formats() -> dict[str, FormatCheck]:
    return dict(BUILTIN_FORMATS)
