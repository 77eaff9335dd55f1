"""The OpenAPI 3.1 document of API v1, built from the same schemas the endpoints validate with."""

from __future__ import annotations

import copy
from typing import Any

from flask import Response, jsonify, url_for

import yuyue
from yuyue.api.converters import MAX_ROW_ID, SlugConverter, path_parameter
from yuyue.api.core import v1
from yuyue.api.customer import OPENAPI_PATHS as CUSTOMER_PATHS
from yuyue.api.customer import OPENAPI_SECURITY_SCHEMES as CUSTOMER_SECURITY_SCHEMES
from yuyue.api.customer_auth import OPENAPI_PATHS as AUTH_PATHS
from yuyue.api.merchant import OPENAPI_PATHS as MERCHANT_PATHS
from yuyue.api.operator import AUDIT_PAGE_SIZE, TENANT_CREATE, TENANT_PLAN, TENANT_PLUGINS
from yuyue.api.payments import OPENAPI_PATHS as PAYMENT_PATHS
from yuyue.types import bounded_integer

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "code", "errors", "request_id"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": bounded_integer(100, 599),
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable machine-readable error code, e.g. validation_failed, slug_taken, not_found"},
        "current_version": bounded_integer(
            1, description="consent_outdated only: the version of the privacy notice a booking must agree to now (show it, then send it)"
        ),
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "message", "code"],
                "properties": {
                    "pointer": {"type": "string", "description": "RFC 6901 JSON pointer into the request body (or the query, as /name)"},
                    "message": {"type": "string"},
                    "code": {
                        "type": "string",
                        "minLength": 1,
                        "description": "stable machine-readable code: the JSON Schema keyword that failed, or e.g. invalid_phone",
                    },
                },
            },
        },
        "request_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$",
            "description": "the request's id, as in its X-Request-ID response header and the server's log lines: quote it when reporting a problem",
        },
    },
}

TENANT = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "time_zone": {"type": "string"},
        "locales": {"type": "array", "items": {"type": "string"}},
        "status": {"enum": ["active", "suspended"]},
        "plan_limits": TENANT_PLAN["properties"]["limits"],
        "created_at": {"type": "string", "format": "date-time"},
        "plugins": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}


OPERATOR_AUDIT_PAGE = {
    "type": "object",
    "required": ["records", "next_after"],
    "properties": {
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["seq", "at", "actor", "action", "subject_type", "subject_id", "data", "prev_hash", "hash"],
                "properties": {
                    "seq": bounded_integer(1),
                    "at": {"type": "string", "format": "date-time"},
                    "actor": {"type": "string", "description": "operator:<token id>, cli or system"},
                    "action": {"type": "string", "description": "token.created, token.revoked, backup.restored, tenant.exported, tenant.imported"},
                    "subject_type": {"type": "string"},
                    "subject_id": {"type": "string"},
                    "data": {"type": "object"},
                    "prev_hash": {"type": "string"},
                    "hash": {"type": "string", "description": "sha256(prev_hash + canonical JSON of the record), as in a tenant's chain"},
                },
            },
        },
        "next_after": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ROW_ID, "description": "pass as ?after= for the next page; null on the last"},
    },
}
OPERATOR_AUDIT_PARAMETERS = [
    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID, "default": 0}, "description": "records after this seq"},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": AUDIT_PAGE_SIZE, "default": AUDIT_PAGE_SIZE}},
]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _operation(summary: str, ok: int, ok_schema: dict[str, Any], body: dict[str, Any] | None = None, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {str(ok): {"description": "OK", **_json(ok_schema)}}
    responses["401"] = _problem("missing, unknown or revoked token")
    responses["403"] = _problem("not an operator token")
    for status in errors:
        responses[str(status)] = _problem(
            {404: "no such tenant", 409: "conflicts with the current state", 422: "invalid input; errors point at each field", 400: "malformed JSON"}[status]
        )
    operation: dict[str, Any] = {"summary": summary, "security": [{"operatorToken": []}], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
    return operation


SLUG_PARAMETER = path_parameter("slug", SlugConverter, "the tenant's slug")
TENANT_REF = {"$ref": "#/components/schemas/Tenant"}


# What the request layer refuses for every operation before its view runs (core.register_error_handlers, api/body.py).
EDGE_RESPONSES = {
    "413": "the body is larger than 1 MiB (payload_too_large)",
    "422": "a query parameter holds a NUL, is over 200 characters, or there are over 20 (validation_failed, at /<name>)",
}
JSON_BODY_RESPONSES = {
    "400": "the body is not JSON (malformed_json) or nests deeper than 32 levels (json_too_deep)",
    "415": "the body is not sent as application/json or application/*+json in UTF-8 (unsupported_media_type)",
}


# Marks an operation whose view reads its body as raw bytes of any media type (a provider's signed notification).
RAW_BODY = "x-yuyue-raw-body"


def with_edge_responses(paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with the answers the request layer gives documented on every operation that does not name them itself."""
    for item in paths.values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            reads_json = "application/json" in operation.get("requestBody", {}).get("content", {}) and not operation.get(RAW_BODY)
            for status, description in {**EDGE_RESPONSES, **(JSON_BODY_RESPONSES if reads_json else {})}.items():
                operation["responses"].setdefault(status, _problem(description))
    return paths


def openapi_document() -> dict[str, Any]:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "yuyue API", "version": yuyue.__version__},
        "components": {
            "schemas": {"Problem": PROBLEM, "Tenant": TENANT},
            "securitySchemes": {
                "operatorToken": {"type": "http", "scheme": "bearer", "description": "created with `yuyue tokens create --operator`"},
                "staffToken": {"type": "http", "scheme": "bearer", "description": "created with `yuyue tokens create --tenant <slug> --role <role>`"},
                **CUSTOMER_SECURITY_SCHEMES,
            },
        },
        "paths": {
            "/api/v1/health": {
                "get": {"summary": "Liveness and database reachability", "responses": {"200": {"description": "OK"}, "503": _problem("database unreachable")}}
            },
            "/api/v1/ready": {
                "get": {
                    "summary": "Readiness: database, migrations at head, Redis when configured, a fresh worker heartbeat (docs/metrics.md)",
                    "responses": {
                        "200": {"description": "ready; each check's status under checks"},
                        "503": _problem("not_ready: the problem's checks member says which check failed and why"),
                    },
                }
            },
            "/api/v1/operator/tenants": {
                "get": _operation("List tenants", 200, {"type": "object", "properties": {"tenants": {"type": "array", "items": TENANT_REF}}}),
                "post": _operation("Provision a tenant", 201, TENANT_REF, TENANT_CREATE, (400, 409, 422)),
            },
            "/api/v1/operator/tenants/{slug}": {"parameters": [SLUG_PARAMETER], "get": _operation("Show a tenant", 200, TENANT_REF, errors=(404,))},
            "/api/v1/operator/tenants/{slug}/suspend": {"parameters": [SLUG_PARAMETER], "post": _operation("Suspend a tenant", 200, TENANT_REF, errors=(404,))},
            "/api/v1/operator/tenants/{slug}/reinstate": {
                "parameters": [SLUG_PARAMETER],
                "post": _operation("Reinstate a suspended tenant", 200, TENANT_REF, errors=(404,)),
            },
            "/api/v1/operator/tenants/{slug}/plan": {
                "parameters": [SLUG_PARAMETER],
                "get": _operation("Show a tenant's plan limits", 200, TENANT_PLAN, errors=(404,)),
                "put": _operation(
                    "Replace a tenant's plan limits (a limit left out is no limit); creating beyond one is refused with plan_limit_reached (409)",
                    200,
                    TENANT_PLAN,
                    TENANT_PLAN,
                    (400, 404, 422),
                ),
            },
            "/api/v1/operator/tenants/{slug}/plugins": {
                "parameters": [SLUG_PARAMETER],
                "put": _operation("Replace the plugins enabled for a tenant, with their configuration", 200, TENANT_PLUGINS, TENANT_PLUGINS, (400, 404, 422)),
            },
            "/api/v1/operator/plugins": {"get": _operation("List installed plugins with their settings schemas", 200, {"type": "object"})},
            "/api/v1/operator/audit": {
                "parameters": OPERATOR_AUDIT_PARAMETERS,
                "get": _operation(
                    "Read the operator audit chain (installation-wide actions: operator tokens), oldest first", 200, OPERATOR_AUDIT_PAGE, errors=(422,)
                ),
            },
            **MERCHANT_PATHS,
            **CUSTOMER_PATHS,
            **AUTH_PATHS,
            **PAYMENT_PATHS,
        },
    }
    document["paths"] = with_edge_responses(copy.deepcopy(document["paths"]))
    return document


@v1.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>yuyue API</title>
<link rel="stylesheet" href="{css}"></head>
<body><div id="docs"></div>
<script src="{js}"></script>
<script>SwaggerUIBundle({{url: "{document}", dom_id: "#docs"}});</script>
</body></html>
"""


def api_docs() -> Response:
    """Readable API docs from Swagger UI as Flask-AppBuilder ships it: served locally, no CDN."""
    page = DOCS_PAGE.format(
        css=url_for("appbuilder.static", filename="css/swagger/swagger-ui.css"),
        js=url_for("appbuilder.static", filename="js/swagger-ui-bundle.js"),
        document=url_for("api_v1.openapi_json"),
    )
    return Response(page, mimetype="text/html")
