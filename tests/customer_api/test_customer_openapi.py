"""The customer API's part of the OpenAPI document: every route documented, bodies as validated, answers as described."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from customer_api_setup import SLOT_DAY, id_number, iso, phone

import yuyue_schemas
from yuyue.api import core
from yuyue.api import customer as customer_api
from yuyue.api import customer_account as account_api
from yuyue.api import customer_notifications as notifications_api
from yuyue.api import feedback as feedback_api
from yuyue.api import packages as packages_api
from yuyue.api import privacy as privacy_api
from yuyue.api.schemas.customer import PREFIX

A = "/api/v1/t/tenant-a"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def customer_routes(app) -> set[tuple[str, str]]:
    return {
        (re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_tenant.customer_")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def documented(paths: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in paths.items() for method in item if method in METHODS}


def test_every_customer_route_is_documented_and_nothing_else(app, document):
    assert documented(customer_api.OPENAPI_PATHS) == customer_routes(app)
    assert documented(customer_api.OPENAPI_PATHS) <= documented(document["paths"])


def test_path_parameters_are_declared(document):
    for path, item in customer_api.OPENAPI_PATHS.items():
        assert {p["name"] for p in item["parameters"] if p["in"] == "path"} == set(re.findall(r"{([^}]+)}", path)), path


def test_security_schemes_and_references_resolve(document):
    schemes = document["components"]["securitySchemes"]
    for item in customer_api.OPENAPI_PATHS.values():
        for method in item.keys() & METHODS:
            for requirement in item[method]["security"]:
                assert requirement.keys() <= schemes.keys()
    text = json.dumps(customer_api.OPENAPI_PATHS)
    assert set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)) <= document["components"]["schemas"].keys()


def test_documented_schemas_are_valid_json_schemas():
    for path, item in customer_api.OPENAPI_PATHS.items():
        for method in item.keys() & METHODS:
            operation = item[method]
            schemas = [r["content"][t]["schema"] for r in operation["responses"].values() for t in r.get("content", {})]
            schemas += [content["schema"] for content in operation.get("requestBody", {}).get("content", {}).values()]
            for schema in schemas:
                assert yuyue_schemas.check_json_schema(schema) == [], f"{method} {path}"


def test_request_bodies_are_the_schemas_the_endpoints_validate_with(app, alice, entry, monkeypatch):
    handed: list[dict[str, Any]] = []

    def recording_json_body(schema: dict[str, Any], **options: Any) -> dict[str, Any]:
        handed.append(json.loads(json.dumps(schema)))
        return core.json_body(schema, **options)

    # The customer routes of class packages and of reviews live with the staff ones; notification preferences, the account and erasure in modules of their own.
    for module in (customer_api, account_api, packages_api, notifications_api, privacy_api, feedback_api):
        monkeypatch.setattr(module, "json_body", recording_json_body)
    validated = {}
    for path, method in sorted(customer_routes(app)):
        handed.clear()
        url = path.replace("{tenant_slug}", "tenant-a").replace("{slug}", "entry").replace("{public_id}", "0" * 32)
        alice.open(re.sub(r"{[a-z_]+_id}", "1", url), method=method.upper(), json={})
        if handed:
            validated[(path, method)] = handed[0]

    # Bodies of other media types (a name list's xlsx or csv) are files, not validated JSON.
    described = {
        (path, method): item[method]["requestBody"]["content"]["application/json"]["schema"]
        for path, item in customer_api.OPENAPI_PATHS.items()
        for method in item.keys() & METHODS
        if "application/json" in item[method].get("requestBody", {}).get("content", {})
    }
    assert validated == described


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    return customer_api.OPENAPI_PATHS[path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def assert_described(body: Any, schema: dict[str, Any]) -> None:
    assert yuyue_schemas.problems_against(schema, body) == []
    if schema.get("type") == "object":
        assert body.keys() <= schema["properties"].keys(), body.keys() - schema["properties"].keys()


def test_answers_match_their_documented_schemas(client, alice, bob, make_type, book):
    make_type(capacity=1)
    guest = client.post(f"{A}/bookings", json={"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Li"}, "phone": phone(9)})
    assert_described(guest.get_json(), response_schema(f"{PREFIX}/bookings", "post", 201))
    mine = book(alice, hour=10)
    waiting = bob.post(f"{A}/waitlist", json={"booking_type": "entry", "starts_at": iso(10), "answers": {"name": "Bob"}})
    assert_described(waiting.get_json(), response_schema(f"{PREFIX}/waitlist", "post", 201))
    cancelled = alice.post(f"{A}/bookings/{mine['id']}/cancel")
    assert_described(cancelled.get_json(), response_schema(f"{PREFIX}/bookings/{{public_id}}/cancel", "post", 200))
    assert_described(client.get(f"{A}/booking-types").get_json(), response_schema(f"{PREFIX}/booking-types", "get", 200))
    assert_described(client.get(f"{A}/booking-types/entry").get_json(), response_schema(f"{PREFIX}/booking-types/{{slug}}", "get", 200))
    availability = client.get(f"{A}/booking-types/entry/availability?from={SLOT_DAY}&to={SLOT_DAY}").get_json()
    assert_described(availability, response_schema(f"{PREFIX}/booking-types/{{slug}}/availability", "get", 200))
    assert_described(alice.get(f"{A}/me/bookings").get_json(), response_schema(f"{PREFIX}/me/bookings", "get", 200))
    companion = alice.post(f"{A}/me/companions", json={"name": "Li", "id_number": id_number(date(2010, 5, 1), 1)})
    assert_described(companion.get_json(), response_schema(f"{PREFIX}/me/companions", "post", 201))
