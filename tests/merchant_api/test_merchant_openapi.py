"""The merchant API in the OpenAPI document: every route and method, staff security, and the very body schemas validated."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
from merchant_setup import at

import yuyue.api  # noqa: F401 - loads every API module
import yuyue_schemas
from yuyue.api import core
from yuyue.api.tenant import tenant_api
from yuyue.tenancy.models import StaffRole

ADMIN_PREFIX = f"{tenant_api.url_prefix}/admin/"
METHODS = {"get", "post", "patch", "put", "delete"}


def admin_operations(app) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(ADMIN_PREFIX)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() if "/admin/" in path for method in item if method in METHODS}


def test_every_admin_route_is_documented_and_nothing_more(app, document):
    assert documented(document) == admin_operations(app)


def test_admin_operations_need_a_staff_token_and_document_401_and_403(document):
    assert document["components"]["securitySchemes"]["staffToken"]["scheme"] == "bearer"
    for path, method in documented(document):
        operation = document["paths"][path][method]
        assert operation["security"] == [{"staffToken": []}], (method, path)
        assert {"401", "403"} <= operation["responses"].keys(), (method, path)


def test_admin_path_parameters_are_declared(document):
    for path, item in document["paths"].items():
        if "/admin/" in path:
            assert set(re.findall(r"{([^}]+)}", path)) == {p["name"] for p in item["parameters"] if p["in"] == "path"}, path


def test_admin_body_and_response_schemas_are_json_schemas(document):
    for path, method in documented(document):
        operation = document["paths"][path][method]
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert yuyue_schemas.check_json_schema(content["schema"]) == [], (method, path)
        for response in operation["responses"].values():
            for content in response.get("content", {}).values():
                if "$ref" not in content["schema"]:
                    assert yuyue_schemas.check_json_schema(content["schema"]) == [], (method, path)


def test_documented_bodies_are_the_schemas_the_endpoints_validate_with(app, tenants, staff_client, document, monkeypatch):
    owner = staff_client("tenant-a", StaffRole.owner)  # reaches every endpoint, the owner-only ones included
    handed: list[dict[str, Any]] = []

    def recording_json_body(schema: dict[str, Any], **options: Any) -> dict[str, Any]:
        handed.append(json.loads(json.dumps(schema)))
        return core.json_body(schema, **options)

    # Every API module that validates bodies, whichever of them holds a staff route.
    for module in [module for name, module in sys.modules.items() if name.startswith("yuyue.api.") and getattr(module, "json_body", None) is core.json_body]:
        monkeypatch.setattr(module, "json_body", recording_json_body)
    validated = {}
    for path, method in sorted(admin_operations(app)):
        handed.clear()
        url = (
            path.replace("{tenant_slug}", "tenant-a").replace("{slug}", "x").replace("{code}", "x").replace("{public_id}", "x").replace("{provider}", "wechat")
        )
        url = url.replace("{package}", "x").replace("{customer_id}", "1").replace("{endpoint_id}", "1").replace("{delivery_id}", "1").replace("{ban_id}", "1")
        url = url.replace("{feedback_id}", "1")
        url = url.replace("{channel}", "sms").replace("{event}", "booking.confirmed").replace("{locale}", "en")
        owner.open(url, method=method.upper(), json={"unknown": True})
        if handed:
            validated[(path, method)] = handed[0]

    # Bodies of other media types (a name list's xlsx or csv) are files, not validated JSON.
    bodies = {
        (path, method): document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        for path, method in documented(document)
        if "application/json" in document["paths"][path][method].get("requestBody", {}).get("content", {})
    }
    assert validated and bodies == validated


def test_booking_responses_match_the_documented_booking_schema(front_desk, make_type, book, document):
    make_type("tenant-a", "entry")
    booking = book("tenant-a", at(9), "13800000001")
    schema = document["paths"]["/api/v1/t/{tenant_slug}/admin/bookings/{public_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    body = front_desk.get(f"/api/v1/t/tenant-a/admin/bookings/{booking.public_id}").get_json()

    assert yuyue_schemas.problems_against(schema, body) == []
    assert set(body) == set(schema["properties"])


def ok_schema(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def test_booking_type_and_resource_responses_match_their_documented_schemas(manager, make_type, make_coach, document):
    make_type("tenant-a", "entry")
    make_coach("tenant-a")

    shown = manager.get("/api/v1/t/tenant-a/admin/booking-types/entry").get_json()
    resources = manager.get("/api/v1/t/tenant-a/admin/resources").get_json()

    assert yuyue_schemas.problems_against(ok_schema(document, "/api/v1/t/{tenant_slug}/admin/booking-types/{slug}"), shown) == []
    assert set(shown) == set(ok_schema(document, "/api/v1/t/{tenant_slug}/admin/booking-types/{slug}")["properties"])
    assert yuyue_schemas.problems_against(ok_schema(document, "/api/v1/t/{tenant_slug}/admin/resources"), resources) == []
