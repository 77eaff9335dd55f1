"""The OpenAPI document describes every v1 endpoint, with the very schemas the endpoints validate with."""

from __future__ import annotations

import json
import re
import sys
from types import ModuleType
from typing import Any

import pytest

import yuyue_schemas
from yuyue.api import core

DOCUMENT = "/api/v1/openapi.json"
TENANT_PREFIX = "/api/v1/t/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    return response.get_json()


def v1_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI path, lower-case method) of every rule under /api/v1/ but the document itself, whoever registered it (Flask-AppBuilder too)."""
    return {
        (re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != DOCUMENT
        for method in rule.methods - IGNORED_METHODS
    }


def _api_modules_using_json_body() -> list[ModuleType]:
    return [m for name, m in sys.modules.items() if name.startswith("yuyue.api.") and m is not core and getattr(m, "json_body", None) is core.json_body]


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(path, method) for path, item in document["paths"].items() for method in item if method in methods}


def test_document_needs_no_token(client):
    assert client.get(DOCUMENT).status_code == 200


def test_document_is_openapi_3_1_with_paths_and_components(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"]
    assert {"Problem", "Tenant"} <= document["components"]["schemas"].keys()
    scheme = document["components"]["securitySchemes"]["operatorToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_every_v1_endpoint_is_documented_with_each_of_its_methods(app, document):
    assert v1_operations(app) - documented_operations(document) == set()


def test_flask_appbuilders_json_login_and_menu_are_not_served_but_its_sign_in_page_is(client):
    assert client.post("/api/v1/security/login", json={"username": "admin", "password": "x", "provider": "db"}).status_code == 404
    assert client.get("/api/v1/menu/").status_code == 404
    assert client.get("/login/").status_code == 200


def test_every_documented_operation_exists(app, document):
    assert documented_operations(document) - v1_operations(app) == set()


def test_every_path_parameter_is_declared(document):
    for path, item in document["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert set(re.findall(r"{([^}]+)}", path)) == declared, path


def test_every_reference_resolves(document):
    references = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert references
    assert set(references) <= document["components"]["schemas"].keys()


def test_every_schema_in_the_document_is_a_valid_json_schema(document):
    for name, schema in document["components"]["schemas"].items():
        assert yuyue_schemas.check_json_schema(schema) == [], name
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            for media_type, content in (body or {}).get("content", {}).items():
                assert yuyue_schemas.check_json_schema(content["schema"]) == [], f"{method} {path} {media_type}"


def _unbounded_strings(schema: dict[str, Any], at: str = "") -> list[str]:
    """Where a schema accepts a string of any length: no maxLength, pattern, enum or const bounds it."""
    types = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    found = [at] if "string" in types and not schema.keys() & {"maxLength", "pattern", "enum", "const"} else []
    for name, item in schema.get("properties", {}).items():
        found += _unbounded_strings(item, f"{at}/{name}")
    for keyword in ("items", "additionalProperties"):
        if isinstance(schema.get(keyword), dict):
            found += _unbounded_strings(schema[keyword], f"{at}/{keyword}")
    return found


def test_every_string_a_request_body_takes_has_a_bound(document):
    unbounded = {
        f"{method} {path} {media_type}": found
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
        for media_type, content in operation["requestBody"]["content"].items()
        if (found := _unbounded_strings(content["schema"]))
    }
    assert unbounded == {}


def test_operator_operations_require_the_operator_token(document):
    for path, item in document["paths"].items():
        if path.startswith("/api/v1/operator"):
            for method in item.keys() - {"parameters"}:
                assert item[method]["security"] == [{"operatorToken": []}], f"{method} {path}"
                assert {"401", "403"} <= item[method]["responses"].keys(), f"{method} {path}"


def test_request_body_schemas_are_the_ones_the_endpoints_validate_with(app, operator, create_tenant, document, monkeypatch):
    """Call every v1 operation and record the schema it hands to ``json_body``."""
    create_tenant("museum")
    handed: list[dict[str, Any]] = []

    def recording_json_body(schema: dict[str, Any]) -> dict[str, Any]:
        handed.append(json.loads(json.dumps(schema)))
        return core.json_body(schema)

    for module in _api_modules_using_json_body():
        monkeypatch.setattr(module, "json_body", recording_json_body)
    validated = {}
    # Operator endpoints here; each tenant-path area checks its own bodies in its tests.
    for path, method in sorted(op for op in v1_operations(app) if not op[0].startswith(TENANT_PREFIX)):
        handed.clear()
        operator.open(path.replace("{slug}", "museum"), method=method.upper(), json={})
        if handed:
            validated[(path, method)] = handed[0]

    documented = {
        (path, method): operation["requestBody"]["content"]["application/json"]["schema"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation and not path.startswith(TENANT_PREFIX)
    }
    assert validated
    assert documented == validated


def test_problem_responses_match_the_documented_problem_schema(client, document):
    schema = document["components"]["schemas"]["Problem"]
    for response in (client.get("/api/v1/operator/tenants"), client.get("/api/v1/nowhere"), client.delete("/api/v1/operator/tenants")):
        assert yuyue_schemas.problems_against(schema, response.get_json(force=True)) == []


def test_tenant_responses_match_the_documented_tenant_schema(operator, create_tenant, document):
    schema = document["components"]["schemas"]["Tenant"]
    body = create_tenant("museum", plugins={"activity": {}}).get_json()

    assert yuyue_schemas.problems_against(schema, body) == []
    assert set(body) == set(schema["properties"])


def test_document_is_a_valid_openapi_3_1_document(document):
    from openapi_spec_validator import validate

    validate(document)


def test_docs_page_is_served_locally_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/openapi.json" in html and "http" not in html.replace("http-equiv", "")
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        response = client.get(asset)
        response.close()  # static files are streamed from disk
        assert response.status_code == 200, asset


def test_oversize_body_answers_413_problem(operator):
    response = operator.post("/api/v1/operator/tenants", data=b"{" + b" " * (1024 * 1024 + 1) + b"}", content_type="application/json")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "payload_too_large"
