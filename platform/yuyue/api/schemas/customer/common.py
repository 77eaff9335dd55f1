"""What every customer route's description shares: path and header parameters, times, the errors, the operation shape."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, TokenConverter, path_parameter
from yuyue.presenting.language import LOCALES

PREFIX = "/api/v1/t/{tenant_slug}"
# The years a date or time sent to the API may fall in: any booking fits, and the ends of Python's calendar
# (year 1 or 9999 moved across a UTC offset overflows) and the local mean time of old dates (+08:05:43) stay out.
FIRST_YEAR, LAST_YEAR = 2000, 2999
YEARS = f"a date from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"

OPENAPI_SECURITY_SCHEMES: dict[str, Any] = {
    "customerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "a customer's access token, from the auth endpoints"},
    "bookingToken": {"type": "apiKey", "in": "header", "name": "X-Booking-Token", "description": "a guest's token for one booking"},
}

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 in the tenant's time zone, with its offset"}
LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(LOCALES)}, "description": "overrides Accept-Language"}
ACCEPT_LANGUAGE = {"name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"}, "description": "zh-Hans (default), zh-Hant, en"}
TENANT = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")
PUBLIC_ID = path_parameter("public_id", TokenConverter, "the booking's id")
BOOKING_TOKEN = {
    "name": "X-Booking-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "a guest's booking token, from the response that created the booking",
}
ERRORS = {
    400: "malformed JSON or header",
    401: "missing, invalid or expired access token",
    403: "the tenant is suspended (tenant_suspended)",
    404: "no such tenant, booking type, booking or entry, or not the caller's",
    409: "a booking rule refuses: code names it (slot_full, daily_cap_reached, slot_closed, resource_conflict, quota_exceeded, banned, cancellation_closed, …)",
    413: "the body is larger than the limit (payload_too_large)",
    415: "the body is not of a media type this operation reads (unsupported_media_type)",
    422: "invalid input; errors point at each field",
    429: "too many bookings; retry after Retry-After seconds",
}


def operation(
    summary: str,
    ok: int,
    ok_schema: dict[str, Any] | None,
    *,
    auth: str = "none",
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] = (),
    errors: tuple[int, ...] = (),
    described: dict[int, str] | None = None,
) -> dict[str, Any]:
    """One customer operation; ``auth`` is ``none``, ``customer`` (logged in) or ``optional`` (a customer, a guest's booking token, or neither)."""
    ok_response: dict[str, Any] = {"description": "OK"}
    if ok_schema is not None:
        ok_response["content"] = {"application/json": {"schema": ok_schema}}
    responses: dict[str, Any] = {str(ok): ok_response}
    for status in sorted({403, 404, *errors}):
        description = (described or {}).get(status, ERRORS[status])
        responses[str(status)] = {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
    security = {"none": [], "customer": [{"customerToken": []}], "optional": [{"customerToken": []}, {"bookingToken": []}, {}]}[auth]
    result: dict[str, Any] = {"summary": summary, "tags": ["customer"], "security": security, "responses": responses}
    if body is not None:
        result["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    if parameters:
        result["parameters"] = list(parameters)
    return result
