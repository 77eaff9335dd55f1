"""What every merchant route's description shares: the tenant parameter, localized text, the errors, the operation shape."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, path_parameter
from yuyue.tenancy.models import StaffRole

PREFIX = "/api/v1/t/{tenant_slug}/admin"
TENANT_PARAMETER = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")
NULLABLE_TEXT = {"type": ["string", "null"]}

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 4000


def localized_text(max_length: int, *, nullable: bool = False) -> dict[str, Any]:
    """One string, or a string per language; the localized-text schema checks the languages, this the length."""
    return {
        "type": ["string", "object", "null"] if nullable else ["string", "object"],
        "maxLength": max_length,
        "additionalProperties": {"type": "string", "maxLength": max_length},
        "description": f"one string, or a string per language (zh-Hans, zh-Hant, en); at most {max_length} characters each",
    }


LOCALIZED_TEXT = localized_text(MAX_NAME_LENGTH)

ERRORS = {
    400: "malformed JSON",
    404: "not found in this tenant",
    409: "refused by the booking's state or rules (code names which)",
    413: "the body is larger than the limit (payload_too_large)",
    415: "the body is not of a media type this operation reads (unsupported_media_type)",
    422: "invalid input; errors point at each field or query parameter",
}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def operation(
    summary: str,
    role: StaffRole,
    ok: int,
    ok_content: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    """One merchant operation, open to staff tokens of the tenant with ``role`` or higher."""
    responses: dict[str, Any] = {str(ok): {"description": "OK", **ok_content}}
    responses["401"] = _problem("missing, unknown or revoked token")
    responses["403"] = _problem(f"not a staff token of this tenant with the {role.value} role or higher, or the tenant is suspended")
    for status in errors:
        responses[str(status)] = _problem(ERRORS[status])
    result: dict[str, Any] = {"summary": summary, "tags": ["merchant"], "security": [{"staffToken": []}], "responses": responses}
    if body is not None:
        result["requestBody"] = {"required": body_required, **json_content(body)}
    if parameters:
        result["parameters"] = parameters
    return result


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
