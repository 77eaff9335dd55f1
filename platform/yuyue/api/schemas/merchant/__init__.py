"""The merchant API's bodies and route descriptions, by resource; together, its part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant import (
    appearance,
    booking_types,
    bookings,
    check_ins,
    customers,
    exports,
    feedback,
    login_providers,
    notification_channels,
    notification_templates,
    packages,
    privacy,
    privacy_notices,
    resources,
    route_stops,
    stats,
    webhooks,
)

OPENAPI_PATHS: dict[str, Any] = {
    **booking_types.OPENAPI_PATHS,
    **route_stops.OPENAPI_PATHS,
    **resources.OPENAPI_PATHS,
    **bookings.OPENAPI_PATHS,
    **check_ins.OPENAPI_PATHS,
    **exports.OPENAPI_PATHS,
    **login_providers.OPENAPI_PATHS,
    **packages.OPENAPI_PATHS,
    **customers.OPENAPI_PATHS,
    **stats.OPENAPI_PATHS,
    **appearance.OPENAPI_PATHS,
    **notification_channels.OPENAPI_PATHS,
    **notification_templates.OPENAPI_PATHS,
    **webhooks.OPENAPI_PATHS,
    **privacy.OPENAPI_PATHS,
    **privacy_notices.OPENAPI_PATHS,
    **feedback.OPENAPI_PATHS,
}

__all__ = ["OPENAPI_PATHS"]
