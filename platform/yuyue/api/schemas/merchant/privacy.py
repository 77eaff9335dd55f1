"""Privacy for the merchant: erasing a customer, the tenant's retention of personal data, and the list of data requests."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import RowIdConverter, path_parameter
from yuyue.api.schemas.customer.privacy import DATA_REQUEST, ERASURE_REFUSED
from yuyue.api.schemas.merchant.bookings import PAGE_PARAMETERS
from yuyue.api.schemas.merchant.common import NULLABLE_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.privacy.models import DataRequestKind, DataRequestStatus, Requester
from yuyue.privacy.operations import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, REASON_LENGTH
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

# The one thing retention does (decisions §62): deleting rows would change counts, amounts and the audit chain.
RETENTION_ACTION = "anonymise"
STAFF_ERASURE = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": REASON_LENGTH, "description": "why, kept with the data request"}},
}
RETENTION = {
    "type": "object",
    "required": ["retention_days"],
    "additionalProperties": False,
    "properties": {
        "retention_days": {
            "oneOf": [{"type": "null"}, bounded_integer(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)],
            "description": "erase a customer's personal data this many days after their last booking ended; null: keep it",
        },
        "retention_action": {"const": RETENTION_ACTION, "description": "personal fields are anonymised; counts and amounts stay"},
    },
}
STAFF_DATA_REQUEST = {
    "type": "object",
    "properties": {
        **DATA_REQUEST["properties"],
        "id": bounded_integer(1),
        "customer": {"oneOf": [{"type": "null"}, bounded_integer(1)], "description": "the customer's id"},
        "requested_by": {"enum": [r.value for r in Requester]},
        "actor": {"type": "string", "description": "who asked: customer:<id>, staff:<user id> or system"},
        "reason": NULLABLE_TEXT,
        "refusal": {**NULLABLE_TEXT, "description": "the problem code that refused an erasure"},
    },
}
DATA_REQUEST_QUERY = ("kind", "status", "cursor", "limit")
DATA_REQUEST_FILTERS = [
    query_parameter("kind", "only requests of this kind", {"enum": [k.value for k in DataRequestKind]}),
    query_parameter("status", "only requests in this status", {"enum": [s.value for s in DataRequestStatus]}),
]

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/customers/{{customer_id}}/erase": {
        "parameters": [TENANT_PARAMETER, path_parameter("customer_id", RowIdConverter, "the customer's id")],
        "post": operation(
            "Erase the customer's personal data for good, with the reason (" + ERASURE_REFUSED + "); answers the data request",
            StaffRole.owner,
            200,
            json_content(STAFF_DATA_REQUEST),
            body=STAFF_ERASURE,
            errors=(400, 404, 409, 413, 415, 422),
        ),
    },
    f"{PREFIX}/privacy": {
        "parameters": [TENANT_PARAMETER],
        "get": operation("The tenant's retention of customers' personal data", StaffRole.owner, 200, json_content(RETENTION)),
        "put": operation(
            "Set how long customers' personal data is kept after their last booking",
            StaffRole.owner,
            200,
            json_content(RETENTION),
            body=RETENTION,
            errors=(400, 413, 415, 422),
        ),
    },
    f"{PREFIX}/data-requests": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "Who asked for their data or its erasure, and when; newest first, in pages",
            StaffRole.manager,
            200,
            json_content({"type": "object", "properties": {"data_requests": {"type": "array", "items": STAFF_DATA_REQUEST}, "next_cursor": NULLABLE_TEXT}}),
            parameters=DATA_REQUEST_FILTERS + PAGE_PARAMETERS,
            errors=(422,),
        ),
    },
}
