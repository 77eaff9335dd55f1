"""Form versions: what is wrong with a form, and reading the versions a booking type published.

Publishing the next version of a booking type's form is the catalog's
(:func:`yuyue.catalog.operations.publish_form`): a changed form is a new version,
and old versions are never rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.errors import FieldProblem, InvalidInput, NotFound, json_pointer
from yuyue.forms.compiler import compile_form
from yuyue.forms.fields import FieldType
from yuyue.forms.formats import FormatCheck
from yuyue.forms.models import FormVersion

__all__ = ["form_problems", "form_version", "form_versions"]


def form_problems(
    definition: Mapping[str, Any],
    ui: Mapping[str, Any],
    field_types: Mapping[str, FieldType],
    *,
    formats: Mapping[str, FormatCheck] | None = None,
) -> list[FieldProblem]:
    """Everything wrong with a form and its UI schema, pointers under ``/definition`` and ``/ui``."""
    problems: list[FieldProblem] = []
    try:
        compile_form(definition, field_types, formats=formats)
    except InvalidInput as error:
        problems += [FieldProblem("/definition" + p.pointer, p.message, p.code) for p in error.errors]
    ui_problems = yuyue_schemas.problems("ui-schema", ui)
    problems += [FieldProblem("/ui" + p.pointer, p.message, "invalid_ui") for p in ui_problems]
    if not ui_problems and isinstance(definition.get("properties"), Mapping):
        problems += _ui_field_problems(definition["properties"], ui)
    return problems


def _ui_field_problems(fields: Mapping[str, Any], ui: Mapping[str, Any]) -> list[FieldProblem]:
    problems = []
    for index, name in enumerate(ui.get("order", [])):
        if name not in fields:
            problems.append(FieldProblem(json_pointer("ui", "order", index), _l("%(name)r is not a field of the form", name=name), "unknown_field"))
    for name, shown in ui.get("fields", {}).items():
        if name not in fields:
            problems.append(FieldProblem(json_pointer("ui", "fields", name), _l("%(name)r is not a field of the form", name=name), "unknown_field"))
            continue
        # A malformed field is reported by compile_form; it has no entries to check here.
        items = fields[name].get("items") if isinstance(fields[name], Mapping) else None
        item_fields = items.get("properties", {}) if isinstance(items, Mapping) else {}
        for item_name in shown.get("fields", {}):
            if item_name not in item_fields:
                pointer = json_pointer("ui", "fields", name, "fields", item_name)
                problems.append(
                    FieldProblem(pointer, _l("%(item_name)r is not a field of each entry of %(name)r", item_name=item_name, name=name), "unknown_field")
                )
    return problems


_FORM_VERSION = select(FormVersion).where(FormVersion.booking_type_id == bindparam("type_id"), FormVersion.version == bindparam("number"))


def form_version(session: Session, booking_type_id: int, version: int) -> FormVersion:
    """Version ``version`` of a booking type's form, for the tenant in context.

    :raises NotFound: if there is no such version.
    """
    found = session.scalar(_FORM_VERSION, {"type_id": booking_type_id, "number": version})
    if found is None:
        raise NotFound(
            _l("booking type %(booking_type_id)s has no form version %(version)s", booking_type_id=booking_type_id, version=version),
            code="form_version_not_found",
        )
    return found


def form_versions(session: Session, booking_type_id: int) -> list[FormVersion]:
    """Every published version of a booking type's form, for the tenant in context, newest first."""
    return list(session.scalars(select(FormVersion).where(FormVersion.booking_type_id == booking_type_id).order_by(FormVersion.version.desc())))
