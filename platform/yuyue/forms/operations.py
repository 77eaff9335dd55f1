"""Publishing form versions: a changed form is a new version, and old versions are never rewritten."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue.catalog.models import BookingType
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, json_pointer
from yuyue.forms.compiler import compile_form
from yuyue.forms.fields import FieldType
from yuyue.forms.formats import FormatCheck
from yuyue.forms.models import FormVersion

__all__ = ["current_form_version", "form_problems", "form_version", "publish_form"]


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
            problems.append(FieldProblem(json_pointer("ui", "order", index), f"{name!r} is not a field of the form", "unknown_field"))
    for name, shown in ui.get("fields", {}).items():
        if name not in fields:
            problems.append(FieldProblem(json_pointer("ui", "fields", name), f"{name!r} is not a field of the form", "unknown_field"))
            continue
        # A malformed field is reported by compile_form; it has no entries to check here.
        items = fields[name].get("items") if isinstance(fields[name], Mapping) else None
        item_fields = items.get("properties", {}) if isinstance(items, Mapping) else {}
        for item_name in shown.get("fields", {}):
            if item_name not in item_fields:
                pointer = json_pointer("ui", "fields", name, "fields", item_name)
                problems.append(FieldProblem(pointer, f"{item_name!r} is not a field of each entry of {name!r}", "unknown_field"))
    return problems


def publish_form(
    session: Session,
    booking_type: BookingType,
    definition: Mapping[str, Any],
    ui: Mapping[str, Any],
    field_types: Mapping[str, FieldType],
    *,
    formats: Mapping[str, FormatCheck] | None = None,
) -> FormVersion:
    """Add the next version of ``booking_type``'s form and make it current.

    Earlier versions stay as they were: bookings keep pointing at the version
    they were validated against.

    :raises InvalidInput: with every problem of the form and UI schema, pointers
        under ``/definition`` and ``/ui``.
    :raises Conflict: if another version was published at the same moment.
    """
    problems = form_problems(definition, ui, field_types, formats=formats)
    if problems:
        raise InvalidInput("the form cannot be published as given", code="invalid_form", errors=problems)
    try:
        with tenant_scope(booking_type.tenant_id), write_transaction(session):
            # Locking the booking type (on PostgreSQL) makes concurrent publishers take turns.
            locked = session.scalars(select(BookingType).where(BookingType.id == booking_type.id).with_for_update()).one()
            latest = session.scalar(select(func.max(FormVersion.version)).where(FormVersion.booking_type_id == locked.id))
            version = FormVersion(
                booking_type_id=locked.id,
                version=(latest or 0) + 1,
                definition=copy.deepcopy(dict(definition)),
                ui=copy.deepcopy(dict(ui)),
            )
            session.add(version)
            locked.form_version = version.version
    except IntegrityError:
        raise Conflict("the form was changed by someone else at the same time; reload it and try again", code="form_changed") from None
    return version


_FORM_VERSION = select(FormVersion).where(FormVersion.booking_type_id == bindparam("type_id"), FormVersion.version == bindparam("number"))


def form_version(session: Session, booking_type_id: int, version: int) -> FormVersion:
    """Version ``version`` of a booking type's form, for the tenant in context.

    :raises NotFound: if there is no such version.
    """
    found = session.scalar(_FORM_VERSION, {"type_id": booking_type_id, "number": version})
    if found is None:
        raise NotFound(f"booking type {booking_type_id} has no form version {version}", code="form_version_not_found")
    return found


def current_form_version(session: Session, booking_type: BookingType) -> FormVersion:
    """The version of the form that new bookings of ``booking_type`` are validated against."""
    with tenant_scope(booking_type.tenant_id):
        return form_version(session, booking_type.id, booking_type.form_version)
