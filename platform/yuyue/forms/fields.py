"""Field types: what a form field's ``x-field`` key stands for.

Each type knows the JSON Schema fragment its answers must match, which
keywords a merchant may set on it (as JSON Schema, so a form builder can render
them), the widget that shows it, how to tidy a posted value before validation
and how to turn a valid value into a typed answer. The built-in types are
registered through the ``register_field_types`` hook like any plugin's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

from yuyue.forms.formats import normalize_id_card, normalize_mobile
from yuyue.types import MAX_INTEGER

__all__ = ["BUILTIN_FIELD_TYPES", "COMMON_KEYWORDS", "FieldType", "infer_field_type"]

LocalizedText = str | dict[str, str]

# Keywords every field may carry whatever its type.
COMMON_KEYWORDS: dict[str, Any] = {
    "x-field": {"type": "string"},
    "x-person": {"enum": ["name", "id_number", "phone", "birth_date"]},
    # Shown only while another field's answer is one of some values (the dialect's show_if).
    "x-show-if": True,
    "title": {"type": "string"},
    "description": {"type": "string"},
    "default": True,
}

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class FieldType:
    """A kind of form field, e.g. ``id_card``.

    :param key: what a form's ``x-field`` names.
    :param schema: the JSON Schema fragment every answer must match; the
        merchant's own keywords are added to it.
    :param widget: the widget shown when the UI schema names none.
    :param config: keyword → JSON Schema of its value, for each keyword a
        merchant may set on a field of this type (besides :data:`COMMON_KEYWORDS`).
    :param required_config: keywords the field must end up with, e.g. ``enum``
        for a select (given directly or derived from ``x-options``); a path
        such as ``items/enum`` names a keyword of a keyword.
    :param normalize: tidies a posted JSON value before validation (trim, drop
        separators); receives any JSON value and must return one.
    :param coerce: turns a valid JSON value into the typed answer.
    :param record_list: answers are a list of records whose properties are
        fields themselves (a person list).
    :param label: the type's name in the form builder.
    """

    key: str
    schema: Mapping[str, Any]
    widget: str
    config: Mapping[str, Any] = field(default_factory=dict)
    required_config: tuple[str, ...] = ()
    normalize: Callable[[Any], Any] = unchanged
    coerce: Callable[[Any], Any] = unchanged
    record_list: bool = False
    label: LocalizedText = ""

    def config_schema(self) -> dict[str, Any]:
        """The JSON Schema of a field of this type as a merchant writes it."""
        return {"type": "object", "properties": {**COMMON_KEYWORDS, **self.config}, "additionalProperties": False}


# --------------------------------------------------------------------------
# Normalizers and coercions
# --------------------------------------------------------------------------


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _tidy_id_card(value: Any) -> Any:
    return normalize_id_card(value) if isinstance(value, str) else value


def _tidy_mobile(value: Any) -> Any:
    return normalize_mobile(value.strip()) if isinstance(value, str) else value


def _to_number(value: int | float) -> int | Decimal:
    """Integers stay ``int``; anything else becomes an exact ``Decimal`` of the number as written."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    return Decimal(str(value))


def _to_date(value: str) -> date:
    return date.fromisoformat(value)


def _to_time(value: str) -> time:
    return time.fromisoformat(value)


def _to_list(value: list) -> list:
    return list(value)


# --------------------------------------------------------------------------
# The built-in types
# --------------------------------------------------------------------------

_LENGTHS = {"minLength": True, "maxLength": True}
_OPTIONS = {"enum": True, "x-options": True, "type": {"enum": ["string", "integer", "number", "boolean"]}}
_LIST = {"minItems": True, "maxItems": True}

BUILTIN_FIELD_TYPES: tuple[FieldType, ...] = (
    FieldType(
        "text",
        {"type": "string"},
        "text",
        config={**_LENGTHS, "pattern": True, "format": True},
        normalize=_strip,
        label={"zh-Hans": "单行文本", "zh-Hant": "單行文字", "en": "Text"},
    ),
    FieldType(
        "textarea",
        {"type": "string"},
        "textarea",
        config=_LENGTHS,
        normalize=_strip,
        label={"zh-Hans": "多行文本", "zh-Hant": "多行文字", "en": "Paragraph"},
    ),
    FieldType(
        "phone",
        {"type": "string", "format": "cn-mobile"},
        "tel",
        normalize=_tidy_mobile,
        coerce=normalize_mobile,
        label={"zh-Hans": "手机号", "zh-Hant": "手機號碼", "en": "Mobile number"},
    ),
    FieldType(
        "email",
        {"type": "string", "format": "email"},
        "email",
        config=_LENGTHS,
        normalize=_strip,
        label={"zh-Hans": "邮箱", "zh-Hant": "電子郵件", "en": "Email"},
    ),
    FieldType(
        "id_card",
        {"type": "string", "format": "cn-id-card"},
        "id_card",
        normalize=_tidy_id_card,
        coerce=normalize_id_card,
        label={"zh-Hans": "身份证号", "zh-Hant": "身分證號碼", "en": "ID card number"},
    ),
    FieldType(
        "number",
        # Bounded even when the merchant sets no bounds: an answer may be counted, stored or compared in an integer column.
        {"type": "number", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER},
        "number",
        config={
            "type": {"enum": ["integer", "number"]},
            "minimum": True,
            "maximum": True,
            "exclusiveMinimum": True,
            "exclusiveMaximum": True,
            "multipleOf": True,
        },
        coerce=_to_number,
        label={"zh-Hans": "数字", "zh-Hant": "數字", "en": "Number"},
    ),
    FieldType(
        "date",
        {"type": "string", "format": "date"},
        "date",
        normalize=_strip,
        coerce=_to_date,
        label={"zh-Hans": "日期", "zh-Hant": "日期", "en": "Date"},
    ),
    FieldType(
        "time",
        {"type": "string", "format": "time"},
        "time",
        normalize=_strip,
        coerce=_to_time,
        label={"zh-Hans": "时间", "zh-Hant": "時間", "en": "Time"},
    ),
    FieldType(
        "select",
        {},
        "select",
        config=_OPTIONS,
        required_config=("enum",),
        label={"zh-Hans": "单选", "zh-Hant": "單選", "en": "Choice"},
    ),
    FieldType(
        "multiselect",
        {"type": "array", "uniqueItems": True},
        "checkboxes",
        config={**_LIST, "items": {"type": "object"}, "x-options": True},
        required_config=("items/enum",),
        coerce=_to_list,
        label={"zh-Hans": "多选", "zh-Hant": "多選", "en": "Multiple choice"},
    ),
    FieldType(
        "checkbox",
        {"type": "boolean"},
        "checkbox",
        coerce=bool,
        label={"zh-Hans": "是/否", "zh-Hant": "是／否", "en": "Yes/no"},
    ),
    FieldType(
        "consent",
        {"type": "boolean", "const": True},
        "consent",
        coerce=bool,
        label={"zh-Hans": "同意条款", "zh-Hant": "同意條款", "en": "Consent"},
    ),
    FieldType(
        "location",
        {"type": "string"},
        "picker",
        config={"enum": True, "x-options": True},
        required_config=("enum",),
        label={"zh-Hans": "上下车点", "zh-Hant": "上下車點", "en": "Pick-up point"},
    ),
    FieldType(
        "route_stop",
        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$", "maxLength": 60},
        "stop_picker",
        normalize=_strip,
        label={"zh-Hans": "线路站点", "zh-Hant": "路線站點", "en": "Route stop"},
    ),
    FieldType(
        "person_list",
        {"type": "array", "items": {"type": "object", "additionalProperties": False}},
        "person_list",
        config={**_LIST, "items": {"type": "object"}},
        required_config=("items/properties",),
        coerce=_to_list,
        record_list=True,
        label={"zh-Hans": "同行人", "zh-Hant": "同行人", "en": "People"},
    ),
)

_TYPE_BY_FORMAT = {"cn-id-card": "id_card", "cn-mobile": "phone", "email": "email", "date": "date", "time": "time"}


def infer_field_type(field_schema: Mapping[str, Any]) -> str | None:
    """The built-in type of a field written without ``x-field`` (``{"type": "integer"}`` is a number)."""
    if field_schema.get("format") in _TYPE_BY_FORMAT:
        return _TYPE_BY_FORMAT[field_schema["format"]]
    kind = field_schema.get("type")
    if "enum" in field_schema or "x-options" in field_schema:
        return "select" if kind != "array" else "multiselect"
    if kind == "string":
        return "text"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "consent" if field_schema.get("const") is True else "checkbox"
    if kind == "array":
        items = field_schema.get("items", {})
        return "person_list" if isinstance(items, Mapping) and items.get("type") == "object" else "multiselect"
    return None
