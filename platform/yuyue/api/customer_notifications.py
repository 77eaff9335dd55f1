"""Customer API for notification preferences: ``GET/PUT /api/v1/t/<tenant>/me/notifications``.

The operation (:mod:`yuyue.notifying.preferences`) validates and audits; descriptions in
:mod:`yuyue.api.schemas.customer.notifications`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify

from yuyue.api.auth import customer_required
from yuyue.api.core import json_body
from yuyue.api.schemas.customer.notifications import PREFERENCES_CHANGE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings.placement import Actor
from yuyue.db import db
from yuyue.events.channel_settings import enabled_channels
from yuyue.events.channels import channels
from yuyue.notifying import preferences
from yuyue.notifying.templates import OPTIONAL_EVENTS


def _channels() -> list[str]:
    return enabled_channels(db.session, current_app)


def preferences_json(choices: preferences.Preferences, channel_keys: list[str]) -> dict[str, Any]:
    registry = channels()
    return {
        "email": choices.email,
        "channels": [
            {
                "key": key,
                "on": key not in choices.channels_off,
                "address_kind": getattr(registry.get(key), "address_kind", "phone") if key in registry else "phone",
            }
            for key in channel_keys
        ],
        "channels_off": list(choices.channels_off),
        "muted": list(choices.muted),
        "optional_events": list(OPTIONAL_EVENTS),
    }


@tenant_api.get("/me/notifications")
@customer_required
def customer_notification_preferences() -> Response:
    return jsonify(preferences_json(preferences.preferences_of(db.session, g.customer.id), _channels()))


@tenant_api.put("/me/notifications")
@customer_required
def customer_set_notification_preferences() -> Response:
    body = json_body(PREFERENCES_CHANGE)
    keys = _channels()
    changes = {field: body[field] for field in ("email", "channels_off", "muted") if field in body}
    choices = preferences.set_preferences(db.session, current_tenant(), g.customer, channels=keys, actor=str(Actor("customer", g.customer.id)), **changes)
    return jsonify(preferences_json(choices, keys))
