"""The customer API's bodies and route descriptions, by resource; together, its part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.customer import account, bookings, catalog, credits, me, notifications, privacy, reviews, waitlist
from yuyue.api.schemas.customer.common import OPENAPI_SECURITY_SCHEMES, PREFIX

OPENAPI_PATHS: dict[str, Any] = {
    **catalog.OPENAPI_PATHS,
    **bookings.OPENAPI_PATHS,
    **waitlist.OPENAPI_PATHS,
    **me.OPENAPI_PATHS,
    **account.OPENAPI_PATHS,
    **credits.OPENAPI_PATHS,
    **notifications.OPENAPI_PATHS,
    **privacy.OPENAPI_PATHS,
    **reviews.OPENAPI_PATHS,
}

__all__ = ["OPENAPI_PATHS", "OPENAPI_SECURITY_SCHEMES", "PREFIX"]
