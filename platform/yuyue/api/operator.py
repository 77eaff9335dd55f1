"""Operator API: provision, suspend and reinstate tenants, set their plan limits, choose each tenant's plugins, read the operator audit chain."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, url_for

from yuyue.api.converters import MAX_ROW_ID
from yuyue.api.core import json_body, operator_required, v1
from yuyue.api.query import query_int
from yuyue.audit.operator_chain import OperatorAuditRecord, operator_records
from yuyue.db import db
from yuyue.plugins import plugin_host
from yuyue.provisioning import operations
from yuyue.tenancy.models import Tenant

AUDIT_PAGE_SIZE = 100
PLUGIN_CONFIGS = {"type": "object", "additionalProperties": {"type": "object"}, "description": "plugin name → its configuration"}

TENANT_CREATE = {
    "type": "object",
    "required": ["slug", "name"],
    "additionalProperties": False,
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "time_zone": {"type": "string", "maxLength": 64, "default": "Asia/Shanghai", "description": "an IANA time zone"},
        "locales": {"type": "array", "items": {"enum": list(operations.SUPPORTED_LOCALES)}, "minItems": 1, "uniqueItems": True},
        "plugins": PLUGIN_CONFIGS,
    },
}

TENANT_PLAN = {
    "type": "object",
    "required": ["limits"],
    "additionalProperties": False,
    "properties": {"limits": operations.PLAN_SCHEMA},
}

TENANT_PLUGINS = {
    "type": "object",
    "required": ["plugins"],
    "additionalProperties": False,
    "properties": {"plugins": PLUGIN_CONFIGS},
}


def _actor() -> str:
    """The operator calling, as the audit log names them."""
    return operations.operator_actor(g.api_token)


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "locales": tenant.locales,
        "status": tenant.status.value,
        "plan_limits": tenant.plan_limits or {},
        "created_at": tenant.created_at.isoformat(),
        "plugins": operations.enabled_plugins(db.session, tenant),
    }


@v1.post("/operator/tenants")
@operator_required
def create_tenant() -> tuple[Response, int, dict[str, str]]:
    body = json_body(TENANT_CREATE)
    tenant = operations.create_tenant(db.session, plugin_host(), **body, actor=_actor())
    return jsonify(tenant_json(tenant)), 201, {"Location": url_for(".get_tenant", slug=tenant.slug)}


@v1.get("/operator/tenants")
@operator_required
def list_tenants() -> Response:
    return jsonify({"tenants": [tenant_json(t) for t in operations.list_tenants(db.session)]})


@v1.get("/operator/tenants/<slug:slug>")
@operator_required
def get_tenant(slug: str) -> Response:
    return jsonify(tenant_json(operations.get_tenant(db.session, slug)))


@v1.post("/operator/tenants/<slug:slug>/suspend")
@operator_required
def suspend_tenant(slug: str) -> Response:
    return jsonify(tenant_json(operations.suspend_tenant(db.session, slug, actor=_actor())))


@v1.post("/operator/tenants/<slug:slug>/reinstate")
@operator_required
def reinstate_tenant(slug: str) -> Response:
    return jsonify(tenant_json(operations.reinstate_tenant(db.session, slug, actor=_actor())))


@v1.get("/operator/tenants/<slug:slug>/plan")
@operator_required
def get_tenant_plan(slug: str) -> Response:
    return jsonify({"limits": operations.get_tenant(db.session, slug).plan_limits or {}})


@v1.put("/operator/tenants/<slug:slug>/plan")
@operator_required
def set_tenant_plan(slug: str) -> Response:
    body = json_body(TENANT_PLAN)
    return jsonify({"limits": operations.set_plan_limits(db.session, slug, body["limits"], actor=_actor()).plan_limits})


@v1.put("/operator/tenants/<slug:slug>/plugins")
@operator_required
def set_tenant_plugins(slug: str) -> Response:
    body = json_body(TENANT_PLUGINS)
    plugins = operations.set_tenant_plugins(db.session, plugin_host(), slug, body["plugins"], actor=_actor())
    return jsonify({"plugins": plugins})


@v1.get("/operator/plugins")
@operator_required
def list_plugins() -> Response:
    host = plugin_host()
    return jsonify(
        {
            "plugins": [
                {"name": p.name, "version": p.version, "hooks": list(p.hooks), "verticals": list(p.verticals), "settings_schema": host.settings_schema(p.name)}
                for p in host.info()
            ]
        }
    )


def audit_record_json(record: OperatorAuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "action": record.action,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "data": record.data,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


@v1.get("/operator/audit")
@operator_required
def operator_audit() -> Response:
    """The operator chain, oldest first: ``?after=<seq>`` continues from ``next_after``."""
    after = query_int("after", minimum=0, maximum=MAX_ROW_ID, default=0)
    limit = query_int("limit", minimum=1, maximum=AUDIT_PAGE_SIZE, default=AUDIT_PAGE_SIZE)
    records = operator_records(db.session, after_seq=after, limit=limit)
    return jsonify({"records": [audit_record_json(r) for r in records], "next_after": records[-1].seq if len(records) == limit else None})
