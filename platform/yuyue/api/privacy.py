"""Privacy routes: the customer erases their own data (``POST /me/erasure``); an owner erases a customer
(``POST /admin/customers/<id>/erase``) and sets the tenant's retention (``/admin/privacy``); managers read the data
requests (``GET /admin/data-requests``). The operations are in :mod:`yuyue.privacy.operations`; the bodies and
descriptions in :mod:`yuyue.api.schemas.customer.privacy` and :mod:`yuyue.api.schemas.merchant.privacy`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, request
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import customer_required, request_now, staff_required
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.query import cursor_before, page_before, query_problem
from yuyue.api.schemas.customer.privacy import ERASURE_CONFIRMATION
from yuyue.api.schemas.merchant.privacy import DATA_REQUEST_QUERY, RETENTION, RETENTION_ACTION, STAFF_ERASURE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings.placement import Actor
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.customers.operations import get_customer
from yuyue.db import db
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.privacy import operations as privacy
from yuyue.privacy.models import DataRequest, DataRequestKind, DataRequestStatus, Requester
from yuyue.tenancy.models import StaffRole


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def data_request_json(data_request: DataRequest, zone: ZoneInfo) -> dict[str, Any]:
    """A data request as the customer who made it sees it."""
    completed = data_request.completed_at
    return {
        "reference": data_request.reference,
        "kind": data_request.kind.value,
        "status": data_request.status.value,
        "requested_at": data_request.requested_at.astimezone(zone).isoformat(),
        "completed_at": completed.astimezone(zone).isoformat() if completed else None,
    }


def staff_data_request_json(data_request: DataRequest, zone: ZoneInfo) -> dict[str, Any]:
    """A data request as staff see it: who asked, why, and what became of it; nothing personal."""
    return {
        "id": data_request.id,
        **data_request_json(data_request, zone),
        "customer": data_request.customer_id,
        "requested_by": data_request.requested_by.value,
        "actor": data_request.actor,
        "reason": data_request.reason,
        "refusal": data_request.refusal,
    }


@tenant_api.post("/me/erasure")
@customer_required
def customer_erasure() -> Response:
    json_body(ERASURE_CONFIRMATION)
    actor = str(Actor("customer", g.customer.id))
    done = privacy.erase_customer(db.session, current_tenant(), g.customer, requested_by=Requester.customer, actor=actor, now=request_now())
    return jsonify(data_request_json(done, _zone()))


@tenant_api.post("/admin/customers/<row_id:customer_id>/erase")
@staff_required(StaffRole.owner)
def erase_customer(customer_id: int) -> Response:
    body = json_body(STAFF_ERASURE)
    tenant = current_tenant()
    customer = get_customer(db.session, customer_id)
    done = privacy.erase_customer(
        db.session, tenant, customer, requested_by=Requester.staff, actor=str(staff_actor()), reason=body["reason"], now=request_now()
    )
    return jsonify(staff_data_request_json(done, _zone()))


def _retention_json() -> dict[str, Any]:
    return {"retention_days": current_tenant().retention_days, "retention_action": RETENTION_ACTION}


@tenant_api.get("/admin/privacy")
@staff_required(StaffRole.owner)
def privacy_settings() -> Response:
    return jsonify(_retention_json())


@tenant_api.put("/admin/privacy")
@staff_required(StaffRole.owner)
def change_privacy_settings() -> Response:
    body = json_body(RETENTION)
    privacy.set_retention(db.session, current_tenant(), body["retention_days"], actor=str(staff_actor()))
    return jsonify(_retention_json())


def _choice(name: str, kind: type) -> Any:
    value = request.args.get(name)
    if value is None:
        return None
    if value not in kind.__members__:
        raise query_problem(name, _l("one of %(values)s", values=", ".join(kind.__members__)), "invalid_value")
    return kind(value)


@tenant_api.get("/admin/data-requests")
@staff_required(StaffRole.manager)
def list_data_requests() -> Response:
    unknown = [name for name in request.args if name not in DATA_REQUEST_QUERY]
    if unknown:
        message = _l("unknown query parameter; use %(names)s", names=", ".join(DATA_REQUEST_QUERY))
        raise InvalidInput(_l("the query parameters are not valid"), errors=[FieldProblem(f"/{name}", message, "unknown_parameter") for name in unknown])
    kind, status = _choice("kind", DataRequestKind), _choice("status", DataRequestStatus)
    before_id, limit = page_before(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    rows = privacy.data_requests(db.session, current_tenant(), kind=kind, status=status, before_id=before_id, limit=limit + 1)
    more, zone = len(rows) > limit, _zone()
    rows = rows[:limit]
    return jsonify({"data_requests": [staff_data_request_json(r, zone) for r in rows], "next_cursor": cursor_before(rows[-1].id) if more else None})
