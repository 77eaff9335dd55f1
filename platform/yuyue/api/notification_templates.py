"""Merchant API for the wording of notifications: ``/api/v1/t/<tenant>/admin/notifications/templates…``.

Manager tokens and above. The operations (:mod:`yuyue.notifying.templates`) check and audit;
descriptions in :mod:`yuyue.api.schemas.merchant.notification_templates`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify

from yuyue.api.auth import staff_required
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.schemas.merchant.notification_templates import PREVIEW_REQUEST, TEMPLATE_DRAFT, TEMPLATES_ROLE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.db import db
from yuyue.events.channels import channels
from yuyue.events.models import NotificationTemplate
from yuyue.notifying import templates
from yuyue.notifying.notices import sample_context


def _summary(key: templates.TemplateKey, row: NotificationTemplate | None) -> dict[str, Any]:
    return {
        "event": key.event,
        "channel": key.channel,
        "locale": key.locale,
        "overridden": row is not None,
        "updated_at": row.updated_at.isoformat() if row is not None else None,
    }


def _template_json(key: templates.TemplateKey, row: NotificationTemplate | None) -> dict[str, Any]:
    mine = {"subject": row.subject or None, "body": row.body or None, "html": row.html or None} if row is not None else dict.fromkeys(templates.PARTS)
    default = {part: templates.default_source(key.event, part, email=_email(key)) for part in templates.PARTS}
    return {**_summary(key, row), "template": mine, "default": default}


def _key(event: str, channel: str, locale: str) -> templates.TemplateKey:
    return templates.checked_key(event, channel, locale, channels().keys)


def _email(key: templates.TemplateKey) -> bool:
    return templates.is_email(channels().get(key.channel))


def _sample(key: templates.TemplateKey) -> dict[str, Any]:
    return sample_context(current_app, current_tenant(), key.event, key.locale, email=_email(key))


@tenant_api.get("/admin/notifications/templates")
@staff_required(TEMPLATES_ROLE)
def list_notification_templates() -> Response:
    saved = templates.overrides(db.session)
    keys = [
        templates.TemplateKey(event, channel, locale)
        for event in templates.NOTIFIED_EVENTS
        for channel in channels().keys
        for locale in templates.TEMPLATE_LOCALES
    ]
    return jsonify({"templates": [_summary(key, saved.get(key)) for key in keys]})


@tenant_api.get("/admin/notifications/templates/<name:event>/<name:channel>/<name:locale>")
@staff_required(TEMPLATES_ROLE)
def get_notification_template(event: str, channel: str, locale: str) -> Response:
    key = _key(event, channel, locale)
    return jsonify(_template_json(key, templates.override(db.session, key.event, key.channel, key.locale)))


@tenant_api.put("/admin/notifications/templates/<name:event>/<name:channel>/<name:locale>")
@staff_required(TEMPLATES_ROLE)
def put_notification_template(event: str, channel: str, locale: str) -> Response:
    key = _key(event, channel, locale)
    draft = json_body(TEMPLATE_DRAFT)
    row = templates.save_template(db.session, current_tenant(), key, draft, sample=_sample(key), email=_email(key), actor=str(staff_actor()))
    return jsonify(_template_json(key, row))


@tenant_api.delete("/admin/notifications/templates/<name:event>/<name:channel>/<name:locale>")
@staff_required(TEMPLATES_ROLE)
def delete_notification_template(event: str, channel: str, locale: str) -> tuple[str, int]:
    templates.delete_template(db.session, current_tenant(), _key(event, channel, locale), actor=str(staff_actor()))
    return "", 204


@tenant_api.post("/admin/notifications/templates/<name:event>/<name:channel>/<name:locale>/preview")
@staff_required(TEMPLATES_ROLE)
def preview_notification_template(event: str, channel: str, locale: str) -> Response:
    key = _key(event, channel, locale)
    draft = json_body(PREVIEW_REQUEST, required=False)
    if not draft:
        row = templates.override(db.session, key.event, key.channel, key.locale)
        draft = {"subject": row.subject, "body": row.body, "html": row.html} if row is not None else {}
    sources = {part: draft.get(part) or None for part in templates.PARTS}
    rendered = templates.check_template(key.event, key.locale, sources, _sample(key), email=_email(key))
    return jsonify({"subject": rendered.subject, "text": rendered.text, "html": rendered.html})
