"""Merchant API for the tenant's notification channels: ``/api/v1/t/<tenant>/admin/notifications/channels[/<key>[/test]]``.

Manager tokens and above. Settings are validated by each channel's schema and audited by
:mod:`yuyue.events.channel_settings`; secrets are write-only (``<name>_set`` in their place).
A test message is sent at once, not through the outbox, so the merchant sees the receiver's
answer: a refusal is a 502 problem whose detail is what the SMTP server, gateway or WeChat said.
Descriptions in :mod:`yuyue.api.schemas.merchant.notification_channels`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import staff_required
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.problems import ApiProblem
from yuyue.api.schemas.merchant.notification_channels import CHANNEL_CHANGE, CHANNELS_ROLE, TEST_MESSAGE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.customers.login import normalize_mobile
from yuyue.db import db
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.events import channel_settings
from yuyue.events.channels import channels
from yuyue.presenting.catalogs import locale_tag

EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
OPENID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def channel_json(view: channel_settings.ChannelView) -> dict[str, Any]:
    return {
        "key": view.key,
        "address_kind": view.address_kind,
        "enabled": view.enabled,
        "source": view.source,
        "settings": view.settings,
        **{f"{name}_set": is_set for name, is_set in view.secrets_set.items()},
        "settings_schema": view.settings_schema,
    }


def _address(kind: str, to: str) -> str:
    """``to`` as the channel's kind of address, or a 422 pointing at it."""
    if kind == "phone":
        return normalize_mobile(to, "/to")
    pattern, hint = (EMAIL_ADDRESS, _l("enter an email address")) if kind == "email" else (OPENID, _l("enter a customer's openid in the mini-program"))
    if not pattern.fullmatch(to):
        raise InvalidInput(_l("not an address this channel sends to"), errors=[FieldProblem("/to", hint, "invalid_address")])
    return to


@tenant_api.get("/admin/notifications/channels")
@staff_required(CHANNELS_ROLE)
def list_notification_channels() -> Response:
    views = [channel_settings.channel_view(db.session, current_app, key) for key in channels().keys]
    return jsonify({"channels": [channel_json(view) for view in views], "enabled": channel_settings.enabled_channels(db.session, current_app)})


@tenant_api.get("/admin/notifications/channels/<name:channel>")
@staff_required(CHANNELS_ROLE)
def get_notification_channel(channel: str) -> Response:
    return jsonify(channel_json(channel_settings.channel_view(db.session, current_app, channel)))


@tenant_api.put("/admin/notifications/channels/<name:channel>")
@staff_required(CHANNELS_ROLE)
def set_notification_channel(channel: str) -> Response:
    body = json_body(CHANNEL_CHANGE)
    view = channel_settings.set_channel_settings(
        db.session, current_app, channel, enabled=body.get("enabled", True), config=body.get("settings") or {}, actor=str(staff_actor())
    )
    return jsonify(channel_json(view))


@tenant_api.delete("/admin/notifications/channels/<name:channel>")
@staff_required(CHANNELS_ROLE)
def delete_notification_channel(channel: str) -> tuple[str, int]:
    channel_settings.delete_channel_settings(db.session, current_app, channel, actor=str(staff_actor()))
    return "", 204


@tenant_api.post("/admin/notifications/channels/<name:channel>/test")
@staff_required(CHANNELS_ROLE)
def test_notification_channel(channel: str) -> Response:
    body = json_body(TEST_MESSAGE)
    view = channel_settings.channel_view(db.session, current_app, channel)
    to = _address(view.address_kind, body["to"])
    tenant = current_tenant()
    outcome = channel_settings.send_test_message(
        db.session, current_app, channel, to, tenant_slug=tenant.slug, tenant_name=tenant.name, locale=locale_tag(), actor=str(staff_actor())
    )
    if outcome.error is not None:
        raise ApiProblem(
            502, "notification_failed", _l("the %(channel)s channel could not send the message: %(reason)s", channel=channel, reason=outcome.error.reason)
        )
    return jsonify({"channel": channel, "to": outcome.to, "sent": True, "message_id": outcome.message_id})
