"""The customer's erasure of their own personal data: the confirmation they send and the data request it answers."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.customer.common import NULLABLE_TIME, PREFIX, TENANT, TIME, operation
from yuyue.privacy.models import DataRequest, DataRequestKind, DataRequestStatus

ERASURE_CONFIRMATION = {
    "type": "object",
    "required": ["confirm"],
    "additionalProperties": False,
    "properties": {"confirm": {"const": True, "description": "true: the customer confirmed that their personal data is to be erased for good"}},
}
DATA_REQUEST = {
    "type": "object",
    "properties": {
        "reference": {"type": "string", "maxLength": DataRequest.__table__.c.reference.type.length},
        "kind": {"enum": [k.value for k in DataRequestKind]},
        "status": {"enum": [s.value for s in DataRequestStatus]},
        "requested_at": TIME,
        "completed_at": NULLABLE_TIME,
    },
}
ERASURE_REFUSED = "erasure_blocked: a booking still to come or a payment or refund not settled (errors point at each); already_erased"

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/me/erasure": {
        "parameters": [TENANT],
        "post": operation(
            "Erase the customer's personal data for good, everywhere; their sessions end. Answers the data request",
            200,
            DATA_REQUEST,
            auth="customer",
            body=ERASURE_CONFIRMATION,
            errors=(400, 401, 409, 413, 415, 422),
            described={409: ERASURE_REFUSED},
        ),
    },
}
