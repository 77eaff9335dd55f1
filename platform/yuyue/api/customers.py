"""A tenant's customers for its staff: ``/api/v1/t/<tenant>/admin/customers…``.

Every staff role may search, read a customer's page and export; managers and
owners adjust points, impose and lift bans, set tags and a note, and merge two records of one person, and they
alone see phones and ID numbers in full (:func:`yuyue.presenting.customers.sees_in_full`).
The bodies and route descriptions are in :mod:`yuyue.api.schemas.merchant.customers`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, request
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import staff_required
from yuyue.api.core import json_body
from yuyue.api.customer import aware_datetime
from yuyue.api.merchant import download, staff_actor
from yuyue.api.query import query_int, query_problem
from yuyue.api.schemas.merchant.customers import (
    BAN_CREATE,
    BAN_LIFT,
    CUSTOMER_CHANGE,
    CUSTOMER_EXPORT_QUERY,
    CUSTOMER_MERGE,
    CUSTOMER_QUERY,
    EXPORT_FORMATS,
    POINTS_ADJUSTMENT,
)
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import customer_records
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.credits.operations import credit_summary
from yuyue.db import db
from yuyue.exports.customers import customers_csv, customers_xlsx
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE
from yuyue.merging.operations import merge_customers
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.credits import credits_json
from yuyue.presenting.customers import customer_json, customer_row_json, sees_in_full
from yuyue.presenting.reviews import reviews_written_json
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _full() -> bool:
    return sees_in_full(g.staff_token.role)


def _customer_response(customer_id: int, status: int = 200) -> tuple[Response, int]:
    now = utcnow()
    record = customer_records.customer_record(db.session, current_tenant(), customer_id)
    credits = credits_json(credit_summary(db.session, current_tenant(), record.customer, now=now), _zone())
    written = reviews_written_json(db.session, current_tenant(), record.customer, _zone(), locale_tag(), full=_full())
    return jsonify({**customer_json(record, credits, _zone(), now, full=_full()), "reviews": written}), status


@tenant_api.get("/admin/customers")
@staff_required()
def list_customers() -> Response:
    filters = customer_records.customer_filters_from_query(request.args, CUSTOMER_QUERY)
    limit = query_int("limit", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    page = customer_records.search_customers(
        db.session, current_tenant(), filters, masked=not _full(), now=utcnow(), cursor=request.args.get("cursor") or None, limit=limit
    )
    return jsonify({"customers": [customer_row_json(row, _zone(), full=_full()) for row in page.rows], "next_cursor": page.next_cursor})


@tenant_api.get("/admin/customers/export")
@staff_required()
def export_customers() -> Response:
    filters = customer_records.customer_filters_from_query(request.args, CUSTOMER_EXPORT_QUERY)
    extension = request.args.get("format", "xlsx")
    if extension not in EXPORT_FORMATS:
        raise query_problem("format", _l("one of %(formats)s", formats=", ".join(EXPORT_FORMATS)), "invalid_format")
    write, mimetype = (customers_xlsx, XLSX_MIMETYPE) if extension == "xlsx" else (customers_csv, f"{CSV_MIMETYPE}; charset=utf-8")
    return download(write(db.session, current_tenant(), filters, full=_full(), now=utcnow()), mimetype, extension, "customers")


@tenant_api.get("/admin/customers/<row_id:customer_id>")
@staff_required()
def get_customer(customer_id: int) -> tuple[Response, int]:
    return _customer_response(customer_id)


@tenant_api.patch("/admin/customers/<row_id:customer_id>")
@staff_required(StaffRole.manager)
def annotate_customer(customer_id: int) -> tuple[Response, int]:
    body = json_body(CUSTOMER_CHANGE)
    customer_records.annotate_customer(db.session, current_tenant(), customer_id, actor=staff_actor(), **body)
    return _customer_response(customer_id)


@tenant_api.post("/admin/customers/<row_id:customer_id>/points")
@staff_required(StaffRole.manager)
def adjust_points(customer_id: int) -> tuple[Response, int]:
    body = json_body(POINTS_ADJUSTMENT)
    customer_records.adjust_points(db.session, current_tenant(), customer_id, delta=body["delta"], reason=body["reason"], actor=staff_actor())
    return _customer_response(customer_id, 201)


@tenant_api.post("/admin/customers/<row_id:customer_id>/bans")
@staff_required(StaffRole.manager)
def ban_customer(customer_id: int) -> tuple[Response, int]:
    body = json_body(BAN_CREATE)
    until = aware_datetime(body["until"], "/until") if "until" in body else None
    customer_records.impose_ban(
        db.session, current_tenant(), customer_id, reason=body["reason"], now=utcnow(), until=until, days=body.get("days"), actor=staff_actor()
    )
    return _customer_response(customer_id, 201)


@tenant_api.post("/admin/customers/<row_id:customer_id>/bans/<row_id:ban_id>/lift")
@staff_required(StaffRole.manager)
def lift_ban(customer_id: int, ban_id: int) -> tuple[Response, int]:
    body = json_body(BAN_LIFT)
    customer_records.lift_ban(db.session, current_tenant(), customer_id, ban_id, reason=body["reason"], now=utcnow(), actor=staff_actor())
    return _customer_response(customer_id)


@tenant_api.post("/admin/customers/<row_id:customer_id>/merge")
@staff_required(StaffRole.manager)
def merge_customer(customer_id: int) -> tuple[Response, int]:
    body = json_body(CUSTOMER_MERGE)
    merge_customers(db.session, current_tenant(), customer_id, other_id=body["from"], reason=body["reason"], actor=staff_actor())
    return _customer_response(customer_id)
