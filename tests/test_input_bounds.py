"""Every number a client, a merchant or a plugin's settings can send has bounds an integer column holds.

Walks every schema a value is validated with: the served OpenAPI document
(bodies, parameters, responses), every registered slot rule's params schema
(built-in and plugin-contributed), a booking type's ticket types, every plugin's and login provider's
settings schema, every shared schema in ``yuyue-schemas`` (policies, the form
dialect, verticals), every field type's answer schema and every vertical's
compiled form. An ``integer`` or ``number`` without both bounds inside
±(2³¹−1) fails here, naming the schema and the pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import yuyue_schemas
from yuyue.app import create_app
from yuyue.catalog.operations import REQUIREMENT_SCHEMA, SCHEDULE_SCHEMA
from yuyue.catalog.tickets import TICKET_TYPES_SCHEMA
from yuyue.payments.builtin import SANDBOX_NOTIFICATION

METHODS = {"get", "put", "post", "patch", "delete"}
SHARED_SCHEMAS = ("vertical", "form-dialect", "ui-schema", "slot-rule", "policies", "localized-text")


def _document_schemas(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, schema in document["components"]["schemas"].items():
        yield f"components/schemas/{name}", schema
    for path, item in document["paths"].items():
        for parameter in item.get("parameters", []):
            yield f"{path} parameter {parameter['name']}", parameter["schema"]
        for method in sorted(item.keys() & METHODS):  # one order in every process: xdist workers must collect alike
            operation = item[method]
            for parameter in operation.get("parameters", []):
                yield f"{method.upper()} {path} parameter {parameter['name']}", parameter["schema"]
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                yield f"{method.upper()} {path} body {media_type}", content["schema"]
            for status, response in operation["responses"].items():
                for media_type, content in response.get("content", {}).items():
                    yield f"{method.upper()} {path} {status} {media_type}", content["schema"]


def _every_schema() -> Iterator[tuple[str, Any, Any]]:
    """(where, schema, the document its local references resolve in)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "bounds-only-" + "k" * 32})
    with app.app_context():
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        host = app.extensions["yuyue.plugins"]
        forms = app.extensions["yuyue.forms"]
        logins = app.extensions["yuyue.login_providers"]
        yield from ((f"OpenAPI {where}", schema, document) for where, schema in _document_schemas(document))
        rules = app.extensions["yuyue.slot_rules"]
        for key in rules:
            yield f"slot rule {key} ({rules.owner(key)})", rules[key].params_schema, None
        for plugin in host.info():
            yield f"settings of plugin {plugin.name}", host.settings_schema(plugin.name), None
        for key in logins.keys:
            yield f"settings of login provider {key}", logins.settings_schema(key), None
        for name in (*SHARED_SCHEMAS, *(f"slot-rules/{key}" for key in yuyue_schemas.slot_rule_types())):
            yield f"yuyue-schemas {name}", yuyue_schemas.schema(name), None
        for key, field_type in forms.field_types.items():
            yield f"answers of field type {key}", dict(field_type.schema), None
        for key, vertical in host.verticals.items():
            yield f"compiled form of vertical {key}", forms.compiled(vertical.form_schema), None
        yield "resource requirements", REQUIREMENT_SCHEMA, None
        yield "resource schedule", SCHEDULE_SCHEMA, None
        yield "ticket types", TICKET_TYPES_SCHEMA, None
        yield "sandbox notification", SANDBOX_NOTIFICATION, None


SCHEMAS = list(_every_schema())


def test_the_walk_reaches_every_kind_of_schema():
    kinds = {where.split(" ")[0] for where, _, _ in SCHEMAS}
    assert {"OpenAPI", "slot", "settings", "yuyue-schemas", "answers", "compiled"} <= kinds
    assert sum(where.startswith("slot rule") for where, _, _ in SCHEMAS) >= 6
    assert sum(where.startswith("settings of plugin") for where, _, _ in SCHEMAS) >= 5


@pytest.mark.parametrize(("where", "schema", "document"), SCHEMAS, ids=[where for where, _, _ in SCHEMAS])
def test_every_number_a_schema_admits_is_bounded_by_an_integer_column(where, schema, document):
    assert yuyue_schemas.unbounded_numbers(schema, document=document) == []
