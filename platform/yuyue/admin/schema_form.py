"""One generic form for any JSON Schema: slot rules, policies, vertical and plugin settings.

Interface (fixed): :func:`render_schema_form` draws the form's fields for ``schema`` filled with
``value`` and ``errors`` (a JSON pointer → message map, pointers relative to the value), every
input named under ``prefix``; :func:`read_schema_form` reads those inputs back from a submitted
form into a value and validates it against the schema, returning the problems by pointer. A
round trip never loses what was typed: a value that does not validate comes back as typed.

This first version is a JSON text area; the builder's change replaces its body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from markupsafe import Markup, escape

from yuyue import json_input

__all__ = ["read_schema_form", "render_schema_form"]


def render_schema_form(schema: Mapping[str, Any], value: Any, *, prefix: str, errors: Mapping[str, str] | None = None) -> Markup:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
    messages = "".join(f'<p class="field-error">{escape(pointer or "/")}: {escape(message)}</p>' for pointer, message in (errors or {}).items())
    return Markup(f'<textarea name="{escape(prefix)}" rows="8" class="code">{escape(text)}</textarea>{messages}')


def read_schema_form(schema: Mapping[str, Any], form: Mapping[str, str], *, prefix: str) -> tuple[Any, dict[str, str]]:
    """The value typed under ``prefix`` and its problems ({} when it is valid)."""
    text = form.get(prefix, "")
    try:
        value = json_input.loads(text or "null")
    except ValueError as error:
        return text, {"": str(error)}
    problems = {"/" + "/".join(str(part) for part in error.absolute_path): error.message for error in Draft202012Validator(schema).iter_errors(value)}
    return value, problems
